// The affectlab web app: plain DOM, no build step. User text only ever enters the page as text nodes.
"use strict";

const TOKEN_KEY = "affectlab-token";
const $ = (id) => document.getElementById(id);

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function authorized(headers = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

// JSON (or FormData) to `path`, the JSON answer back; GET when `body` is undefined, unless `method` says otherwise.
// A 401 opens the token field, unless `quiet` (a call the user did not ask for, such as the jobs list on a tab change)
async function call(path, body, method = body === undefined ? "GET" : "POST", { quiet = false } = {}) {
  const options = body === undefined ? { method, headers: authorized() }
    : body instanceof FormData ? { method, headers: authorized(), body }
      : { method, headers: authorized({ "Content-Type": "application/json" }), body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    if (response.status === 401 && !quiet) {
      $("access").open = true;
      $("token").focus();
    }
    const error = answer.error || {};
    const where = error.field ? ` (${error.field})` : "";
    throw new Error(`${error.message || response.statusText}${where}`);
  }
  return answer;
}

function setStatus(id, message, isError) {
  const status = $(id);
  status.textContent = message;
  status.classList.toggle("error", Boolean(isError));
}

// scores: {name: value}; the bars are scaled to [low, high] and sorted, highest first, when `sorted`
function fillBars(list, scores, { low = 0, high = 1, sorted = true, on = [] } = {}) {
  list.replaceChildren();
  const names = Object.keys(scores);
  if (sorted) names.sort((a, b) => scores[b] - scores[a]);
  for (const name of names) {
    const value = scores[name];
    const item = element("li", on.includes(name) ? "on" : "");
    const track = element("span", "track");
    const fill = element("span", "fill");
    fill.style.width = `${Math.max(0, Math.min(1, (value - low) / (high - low))) * 100}%`;
    track.append(fill);
    track.setAttribute("role", "img");
    track.setAttribute("aria-label", `${name} ${value.toFixed(2)}`);
    item.append(element("span", "name", name), track, element("span", "value", value.toFixed(2)));
    list.append(item);
  }
}

// `text` with the [start, end) spans marked; overlapping spans keep the first
function highlighted(text, spans) {
  const parts = [];
  let at = 0;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    if (span.start < at || span.end <= span.start) continue;
    parts.push(document.createTextNode(text.slice(at, span.start)));
    const mark = element("mark", "", text.slice(span.start, span.end));
    if (span.title) mark.title = span.title;
    parts.push(mark);
    at = span.end;
  }
  parts.push(document.createTextNode(text.slice(at)));
  return parts;
}

function busy(form, on) {
  for (const button of form.querySelectorAll("button")) button.disabled = on;
}

async function analyzeText(event) {
  event.preventDefault();
  const form = $("text-form");
  const text = $("text-input").value;
  busy(form, true);
  setStatus("text-status", "analyzing…");
  try {
    const result = await call("/v1/analyze", { text, explain: $("text-explain").checked });
    const evidence = [];
    for (const [label, words] of Object.entries(result.evidence || {})) {
      for (const word of words) {
        if (word.score > 0) evidence.push({ start: word.start, end: word.end, title: `${label} +${word.score.toFixed(2)}` });
      }
    }
    $("text-evidence").replaceChildren(...highlighted(text, evidence));
    fillBars($("text-emotions"), result.emotions, { on: result.labels });
    fillBars($("text-ekman"), result.ekman);
    fillBars($("text-sentiment"), result.sentiment);
    fillBars($("text-vad"), result.vad, { low: 1, high: 5, sorted: false });
    $("text-result").hidden = false;
    const cut = result.truncated ? " (only its beginning was read)" : "";
    setStatus("text-status", `${result.labels.join(", ")} — ${result.model}${cut}`);
  } catch (error) {
    setStatus("text-status", error.message, true);
  } finally {
    busy(form, false);
  }
}

function readTurns() {
  const turns = [];
  $("conversation-input").value.split("\n").forEach((line, index) => {
    if (!line.trim()) return;
    const colon = line.indexOf(":");
    if (colon < 1) throw new Error(`line ${index + 1}: write it as "speaker: text"`);
    turns.push({ speaker: line.slice(0, colon).trim(), text: line.slice(colon + 1).trim() });
  });
  if (!turns.length) throw new Error("write at least one turn");
  return turns;
}

let shownTurns = [];

function selectTurn(index) {
  const items = $("conversation-turns").children;
  const causes = index === null ? [] : shownTurns[index].causes;
  shownTurns.forEach((turn, i) => {
    const item = items[i];
    const mine = causes.filter((cause) => cause.turn === i);
    item.setAttribute("aria-pressed", String(i === index));
    item.classList.toggle("cause", mine.length > 0);
    const spans = mine.map((cause) => ({ start: cause.start, end: cause.end, title: `cause, ${cause.score.toFixed(2)}` }));
    item.querySelector(".said").replaceChildren(...highlighted(turn.text, spans));
  });
}

function renderTurns(turns) {
  shownTurns = turns;
  const list = $("conversation-turns");
  list.replaceChildren();
  turns.forEach((turn, index) => {
    const item = element("li", "turn");
    item.tabIndex = 0;
    item.setAttribute("role", "button");
    item.setAttribute("aria-pressed", "false");
    const second = Object.entries(turn.emotions).sort((a, b) => b[1] - a[1])[1];
    item.append(element("span", "emotion", `${turn.emotion} ${turn.emotions[turn.emotion].toFixed(2)}`),
                element("span", "who", `${turn.speaker}: `), element("span", "said", turn.text));
    const why = turn.causes.length
      ? `caused by turn ${turn.causes.map((c) => `${c.turn + 1} (${c.score.toFixed(2)})`).join(", ")}`
      : turn.emotion === "neutral" ? "" : "no cause found above the threshold";
    const alone = turn.read_alone && Object.entries(turn.read_alone).sort((a, b) => b[1] - a[1])[0];
    const aloneNote = alone && alone[0] !== turn.emotion ? `read alone: ${alone[0]} ${alone[1].toFixed(2)}` : "";
    item.append(element("span", "why", [why, second ? `next: ${second[0]} ${second[1].toFixed(2)}` : "", aloneNote]
      .filter(Boolean).join(" · ")));
    item.setAttribute("aria-label", `turn ${index + 1}, ${turn.speaker}, ${turn.emotion}. ${why} ${aloneNote}`.trim());
    item.addEventListener("click", () => selectTurn(index));
    item.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); selectTurn(index); }
    });
    list.append(item);
  });
  $("conversation-help").hidden = !turns.length;
}

async function analyzeConversation(event) {
  event.preventDefault();
  const form = $("conversation-form");
  busy(form, true);
  try {
    const turns = readTurns();
    setStatus("conversation-status", "analyzing…");
    const result = await call("/v1/conversation", { turns });
    renderTurns(result.turns);
    setStatus("conversation-status", `${result.turns.length} turns — ${result.model}, causes: ${result.cause_model}`);
  } catch (error) {
    setStatus("conversation-status", error.message, true);
  } finally {
    busy(form, false);
  }
}

async function suggestReply() {
  const form = $("conversation-form");
  busy(form, true);
  try {
    const turns = readTurns();
    setStatus("conversation-status", "writing a reply (the first one also loads the language model)…");
    const reply = await call("/v1/respond", { turns });
    $("reply-text").textContent = reply.text || "(the model produced nothing)";
    const words = reply.cause_hint.map((w) => w.word).join(", ");
    $("reply-meta").textContent = [reply.emotion_hint && `emotion: ${reply.emotion_hint}`,
      words && `cause words: ${words}`, reply.strategy && `strategy: ${reply.strategy}`, reply.model]
      .filter(Boolean).join(" · ");
    $("reply").hidden = false;
    setStatus("conversation-status", "");
  } catch (error) {
    setStatus("conversation-status", error.message, true);
  } finally {
    busy(form, false);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// with a token, a plain link cannot carry it: fetch the file with it and hand it over as a download
function linkWithToken(link, path, name) {
  link.href = path;
  link.onclick = async (event) => {
    if (!sessionStorage.getItem(TOKEN_KEY)) return;
    event.preventDefault();
    const response = await fetch(path, { headers: authorized() });
    if (!response.ok) { setStatus("corpus-status", `${path}: ${response.status}`, true); return; }
    const url = URL.createObjectURL(await response.blob());
    const save = element("a");
    save.href = url;
    save.download = name;
    save.click();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  };
}

function showProgress(job) {
  const bar = $("corpus-progress");
  const progress = job.progress;
  bar.hidden = false;
  if (progress && progress.rows_total) {
    bar.max = progress.rows_total;
    bar.value = progress.rows_done;
    setStatus("corpus-status", `${progress.stage}: ${progress.rows_done.toLocaleString()} of ` +
      `${progress.rows_total.toLocaleString()} rows`);
  } else {
    bar.removeAttribute("value");  // indeterminate
    setStatus("corpus-status", job.state === "queued" ? `queued (${job.position} before it)` : "starting…");
  }
}

let corpusJob = null;  // the id of the job the corpus panel shows, until it is deleted

// the delete button of the job shown: it cancels a job that waits or runs, and removes a finished one's files
function showJobActions(job) {
  corpusJob = job.id;
  const finished = job.state === "complete" || job.state === "failed";
  $("corpus-delete").textContent = finished ? "Delete the job and its files" : "Cancel and delete the job";
  $("corpus-kept").textContent = !finished ? ""
    : job.expires ? `kept on the server until ${new Date(job.expires).toLocaleString()}`
      : "kept on the server until deleted";
  $("corpus-actions").hidden = false;
}

// delete the job `id` (default: the one shown); the panel forgets it if it shows it, and the list is redrawn
async function deleteCorpus(id = corpusJob) {
  if (!id) return;
  const shown = id === corpusJob;
  const where = shown ? "corpus-status" : "corpus-jobs-status";
  $("corpus-delete").disabled = true;
  setStatus(where, "deleting…");
  try {
    const answer = await call(`/v1/corpus/${id}`, undefined, "DELETE");
    if (id === corpusJob) {
      corpusJob = null;
      $("corpus-actions").hidden = true;
      $("corpus-result").hidden = true;
      $("corpus-progress").hidden = true;
    }
    setStatus(where, answer.removed ? "deleted: its upload and results are removed from the server"
      : "deleted: it stops after its current batch, and its files are removed then");
    if (!shown) $(where).focus();  // its row, and the button pressed, are gone
    listJobs({ keepStatus: !shown });
  } catch (error) {
    setStatus(where, error.message, true);
  } finally {
    $("corpus-delete").disabled = false;
  }
}

function showCorpus(job) {
  const counts = job.summary.counts;
  $("corpus-progress").value = $("corpus-progress").max;
  fillBars($("corpus-shares"), job.summary.ekman_shares);
  linkWithToken($("corpus-report"), job.report, `affectlab-report-${job.id}.html`);
  linkWithToken($("corpus-table"), job.table, `affectlab-corpus-${job.id}.parquet`);
  $("corpus-table").download = `affectlab-corpus-${job.id}.parquet`;
  $("corpus-result").hidden = false;
  setStatus("corpus-status", `done: ${counts.rows.toLocaleString()} rows, ${counts.ok.toLocaleString()} scored, ` +
    `${counts.skipped.toLocaleString()} without text, ${counts.errors.toLocaleString()} with errors — ` +
    `${job.summary.model}`);
}

// show `job` in the panel and follow it until it ends, unless it is deleted or another job is shown meanwhile
async function follow(job) {
  const id = job.id;
  $("corpus-result").hidden = true;
  markShown(id);
  try {
    while (job.state === "queued" || job.state === "running") {
      showJobActions(job);
      showProgress(job);
      await sleep(1000);
      if (corpusJob !== id) return;
      job = await call(`/v1/corpus/${id}`);
    }
    if (corpusJob !== id) return;
    showJobActions(job);
    if (job.state !== "complete") throw new Error(`the job failed: ${job.error}`);
    showCorpus(job);
  } catch (error) {
    if (corpusJob !== id) return;  // deleted from this page while it was asked for
    $("corpus-progress").hidden = true;
    setStatus("corpus-status", error.message, true);
  }
  listJobs({ keepStatus: true });
}

async function runCorpus(event) {
  event.preventDefault();
  const form = $("corpus-form");
  const file = $("corpus-file").files[0];
  busy(form, true);
  $("corpus-result").hidden = true;
  $("corpus-actions").hidden = true;
  try {
    if (!file) throw new Error("choose a CSV or Parquet file");
    const body = new FormData();
    body.append("file", file);
    body.append("text_column", $("corpus-text").value.trim());
    for (const [field, id] of [["time_column", "corpus-time"], ["group_column", "corpus-group"]]) {
      if ($(id).value.trim()) body.append(field, $(id).value.trim());
    }
    setStatus("corpus-status", "uploading…");
    const job = await call("/v1/corpus", body);
    corpusJob = job.id;
    listJobs({ keepStatus: true });
    await follow(job);
  } catch (error) {
    $("corpus-progress").hidden = true;
    setStatus("corpus-status", error.message, true);
  } finally {
    busy(form, false);
  }
}

// open a job of the list in the panel above it: its progress, then its result; focus goes to its status
async function openJob(id) {
  $("corpus-actions").hidden = true;
  setStatus("corpus-status", "opening the job…");
  $("corpus-status").focus();
  corpusJob = id;
  try {
    await follow(await call(`/v1/corpus/${id}`));
  } catch (error) {
    if (corpusJob === id) setStatus("corpus-status", error.message, true);
  }
}

let jobsCursor = null;  // where the next page of the list starts; null when it is all shown

function markShown(id) {
  for (const row of $("corpus-jobs-rows").children) row.classList.toggle("shown", row.dataset.id === id);
}

function jobRow(job) {
  const row = element("tr", job.id === corpusJob ? "shown" : "");
  row.dataset.id = job.id;
  const started = new Date(job.created).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
  const rows = job.rows_total != null ? `${job.rows_done.toLocaleString()} of ${job.rows_total.toLocaleString()}`
    : job.rows_done ? job.rows_done.toLocaleString() : "—";
  row.append(element("td", "", started), element("td", job.state, job.state), element("td", "num", rows));
  const actions = element("td", "actions");
  for (const [label, act] of [["Open", () => openJob(job.id)], ["Delete", () => deleteCorpus(job.id)]]) {
    const button = element("button", "", label);
    button.type = "button";
    button.setAttribute("aria-label", `${label} the ${job.state} job started ${started}`);
    button.addEventListener("click", act);
    actions.append(button);
  }
  row.append(actions);
  return row;
}

// the jobs the server keeps, newest first, 20 at a time (`more`: the next page, after those shown)
async function listJobs({ more = false, keepStatus = false } = {}) {
  const query = new URLSearchParams({ limit: "20" });
  if (more && jobsCursor) query.set("cursor", jobsCursor);
  try {
    const page = await call(`/v1/corpus?${query}`, undefined, "GET", { quiet: true });
    if (!more) $("corpus-jobs-rows").replaceChildren();
    $("corpus-jobs-rows").append(...page.jobs.map(jobRow));
    jobsCursor = page.next_cursor;
    $("corpus-jobs-more").hidden = !jobsCursor;
    $("corpus-jobs-table").hidden = page.total === 0;
    if (!keepStatus || page.total === 0) {
      setStatus("corpus-jobs-status", page.total === 0 ? "no jobs on this server"
        : `${page.total.toLocaleString()} job${page.total === 1 ? "" : "s"}`);
    }
  } catch (error) {
    setStatus("corpus-jobs-status", `the jobs cannot be listed: ${error.message}`, true);
  }
}

function setUpTabs() {
  const tabs = [...document.querySelectorAll("[role=tab]")];
  const choose = (tab) => {
    for (const each of tabs) {
      const chosen = each === tab;
      each.setAttribute("aria-selected", String(chosen));
      each.tabIndex = chosen ? 0 : -1;
      $(each.getAttribute("aria-controls")).hidden = !chosen;
    }
    tab.focus();
    if (tab.id === "tab-corpus") listJobs();
  };
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => choose(tab));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (step) choose(tabs[(index + step + tabs.length) % tabs.length]);
    });
  });
}

function submitOnCtrlEnter(textarea, form) {
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpTabs();
  $("token").value = sessionStorage.getItem(TOKEN_KEY) || "";
  $("token").addEventListener("input", (event) => sessionStorage.setItem(TOKEN_KEY, event.target.value.trim()));
  $("text-form").addEventListener("submit", analyzeText);
  $("conversation-form").addEventListener("submit", analyzeConversation);
  $("reply-button").addEventListener("click", suggestReply);
  $("corpus-form").addEventListener("submit", runCorpus);
  $("corpus-delete").addEventListener("click", () => deleteCorpus());
  $("corpus-jobs-refresh").addEventListener("click", () => listJobs());
  $("corpus-jobs-more").addEventListener("click", () => listJobs({ more: true }));
  submitOnCtrlEnter($("text-input"), $("text-form"));
  submitOnCtrlEnter($("conversation-input"), $("conversation-form"));
});
