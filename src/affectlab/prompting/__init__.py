"""The emotional prompting lab: emotional stimuli in prompts, an emotional feedback loop (HEART), and the
harness that measures both against the plain prompt with bootstrap intervals."""

from affectlab.prompting.generation import GenerationCache, default_cache_dir
from affectlab.prompting.harness import Comparison, ItemRecord, PromptEvalResult, build_prompt, run_prompt_eval
from affectlab.prompting.heart import HeartResult, oracle, run_heart
from affectlab.prompting.stimuli import Condition, Stimulus, StimulusError, load_stimuli, parse_conditions
from affectlab.prompting.tasks import (
    INSTRUCTION_INDUCTION,
    Item,
    Task,
    TaskError,
    load_instruction_induction,
    load_jsonl_task,
    resolve_tasks,
)

__all__ = [
    "INSTRUCTION_INDUCTION", "Comparison", "Condition", "GenerationCache", "HeartResult", "Item", "ItemRecord",
    "PromptEvalResult", "Stimulus", "StimulusError", "Task", "TaskError", "build_prompt", "default_cache_dir",
    "load_instruction_induction", "load_jsonl_task", "load_stimuli", "oracle", "parse_conditions", "resolve_tasks",
    "run_heart", "run_prompt_eval",
]
