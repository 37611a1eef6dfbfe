"""``sizebot.toml``: what to build, how, and which size budgets to hold it to.

``find_config(repo_root)`` looks for the file; ``load_config(path)`` reads and validates it into
frozen dataclasses; ``default_config()`` is what runs without a file. Every error is a
``ConfigError`` naming file, line and key (``sizebot.toml:7: budget[1].max_size: ...``).

The package: ``model`` (the dataclasses), ``schema`` (config.schema.json, the single list of keys,
types and ranges), ``validation`` (the schema walk, its messages, the checks across tables),
``lines`` (where each key is in the text), ``placeholders``, ``loading`` (the file).
"""

from sizebot.config.lines import KeyPath, format_path, key_lines, line_of
from sizebot.config.loading import CONFIG_NAMES, find_config, load_config, parse_config
from sizebot.config.model import (
    DEFAULT_LABEL,
    DEFAULT_STRATEGIES,
    DEFAULT_TRAILER,
    BudgetRule,
    Config,
    ImageBudgetRule,
    ImageConfig,
    Job,
    OverridePolicy,
    Strategy,
    Target,
    default_config,
)
from sizebot.config.placeholders import expand_placeholders, placeholders

__all__ = [
    "CONFIG_NAMES", "DEFAULT_LABEL", "DEFAULT_STRATEGIES", "DEFAULT_TRAILER", "BudgetRule", "Config",
    "ImageBudgetRule", "ImageConfig", "Job", "KeyPath", "OverridePolicy", "Strategy", "Target", "default_config",
    "expand_placeholders", "find_config", "format_path", "key_lines", "line_of", "load_config", "parse_config",
    "placeholders",
]
