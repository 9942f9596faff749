"""Pictures of the internals reports: probe accuracy by layer beside the LM's zero-shot prompting and
chance, and how long the emotion stays readable after the text ends; the steering sweep."""

from __future__ import annotations

from pathlib import Path

from affectlab.plots import literal, pyplot, save_png


def plot_probes(report: dict, path: Path) -> None:
    plt = pyplot()
    layers = [p["layer"] for p in report["probes"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    left.plot(layers, [p["accuracy"] for p in report["probes"]], marker="o", label="linear probe (mean-pooled), test")
    if "dev_accuracy" in report["probes"][0]:
        left.plot(layers, [p["dev_accuracy"] for p in report["probes"]], marker=".", linestyle="--",
                  label="linear probe, dev")
        left.axvline(report["best_layer"]["layer"], color="gray", linewidth=0.8, label="layer picked on dev")
    left.plot(layers, [p["macro_f1"] for p in report["probes"]], marker=".", linestyle=":", label="probe macro-F1")
    left.axhline(report["zero_shot_prompting"]["accuracy"], color="tab:red", label="zero-shot prompting, same items")
    left.axhline(report["chance"]["uniform"], color="gray", linestyle="--", label="chance (balanced test)")
    left.set_xlabel("layer")
    left.set_ylabel("accuracy (Ekman-7)")
    left.set_title(f"{literal(report['dataset'])}: {report['items']['test']} balanced test items")
    left.legend(fontsize=8)
    for tokens, accuracy in report["persistence"]["accuracy_by_layer"].items():
        right.plot(layers, accuracy, marker=".", label=f"{tokens} filler tokens later")
    right.axhline(report["chance"]["uniform"], color="gray", linestyle="--")
    right.set_xlabel("layer")
    right.set_title("persistence: last-token probe after neutral filler")
    right.legend(fontsize=8)
    fig.suptitle(f"Emotion in the residual stream of {literal(report['model'])}")
    fig.tight_layout()
    save_png(fig, path)


def plot_steering(report: dict, path: Path) -> None:
    plt = pyplot()
    points = report["sweep"]["points"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))

    def line_of(p: dict) -> tuple:  # one line per layer set and share of the shared part removed
        return tuple(p["layers"]), p.get("remove_shared", 0.0)

    for layers, share in sorted({line_of(p) for p in points}):
        mine = [p for p in points if line_of(p) == (layers, share)]
        label = f"layer{'s' if len(layers) > 1 else ''} {'+'.join(map(str, layers))}"
        label += f", shared part x{share:g} removed" if share else ""
        line, = left.plot([p["strength"] for p in mine], [p["accuracy"] for p in mine], marker="o", label=label)
        left.plot([p["strength"] for p in mine], [p["accuracy_fluent"] for p in mine], marker="x", linestyle=":",
                  color=line.get_color())
        right.plot([p["strength"] for p in mine], [p["perplexity_ratio"] for p in mine], marker="o", label=label)
    right.axhline(2.0, color="gray", linestyle="--", label="2x unsteered")
    left.set_xlabel("strength")
    left.set_ylabel("expression accuracy (dev; dotted: fluent)")
    right.set_xlabel("strength")
    right.set_ylabel("perplexity / unsteered (dev)")
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    fig.suptitle(f"Steering sweep on {literal(report['model'])}, scored by {literal(report['classifier'])}")
    fig.tight_layout()
    save_png(fig, path)
