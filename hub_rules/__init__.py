"""Rules shared by the hub server, the hub client and the ML core, one of each: the file path
rule, the semantic-version grammar and ranges, the HTTP ``Range`` parser and the safe
model-card front-matter loader, the version-message length limit, the name rule for users, orgs
and repos, the file-type rule of dataset repos, what a digest and a commit id are, the ``Authorization: Bearer`` reading, and the one
atomic small-file write. Pure Python (PyYAML only); no settings of its own
(``hub_rules.env_settings`` is how the client and the ML core read their environment variables).

Errors: ``RuleError`` (a ``ValueError``) with ``PathRefused``, ``VersionInvalid`` and
``CardInvalid``, ``MessageTooLong``, ``NameInvalid``, ``DigestInvalid``, ``BearerInvalid``, ``RangeNotSatisfiable`` (a 416),
``SettingInvalid``, ``ModelIndexInvalid`` (a card's declared evaluations, ``eval_index``), ``TargetRefused`` (a webhook URL, ``webhook_targets``) and ``hub_rules.signatures.SignatureError`` below it. Messages are one line.
"""

from .atomic_file import write_atomically
from .bearer import parse_bearer
from .byte_ranges import (
    ByteRange,
    RangeNotSatisfiable,
    parse_content_range,
    parse_range,
)
from .card import (
    MAX_DEPTH,
    MAX_FRONT_MATTER_BYTES,
    load_front_matter,
    load_yaml,
    parse_card,
    split_card,
)
from .commits import DIGEST_RE, check_digest, commit_id, is_digest
from .data_files import DataFileCheck, DataFileRefused, check_data_file, check_data_path, data_kind
from .errors import (
    BearerInvalid,
    CardInvalid,
    DigestInvalid,
    MessageTooLong,
    NameInvalid,
    PathRefused,
    RuleError,
    SettingInvalid,
    TargetRefused,
    VersionInvalid,
)
from .eval_index import (
    MAX_EVAL_RESULTS_BYTES,
    METRICS,
    DeclaredEval,
    ModelIndexInvalid,
    declared_evals,
    eval_results_declared,
    is_eval_results_path,
    model_index_entry,
)
from .messages import MAX_MESSAGE_CHARS, check_message
from .names import MAX_NAME_CHARS, check_name, is_name, is_repo_id, split_repo_id
from .paths import (
    PICKLE_SUFFIXES,
    check_manifest_paths,
    check_not_pickle,
    check_path,
    is_pickle_name,
)
from .pickles import check_not_pickle_content, is_pickle, is_pickle_bytes
from .semver import (
    MAIN_NAMES,
    Range,
    Version,
    check_version,
    is_commit,
    is_range,
    is_version,
    matches,
    newest,
    parse_version,
    sort_key,
)
from .semver import parse_range as parse_version_range

__all__ = [
    "DIGEST_RE",
    "MAIN_NAMES",
    "MAX_DEPTH",
    "MAX_EVAL_RESULTS_BYTES",
    "MAX_FRONT_MATTER_BYTES",
    "MAX_MESSAGE_CHARS",
    "MAX_NAME_CHARS",
    "METRICS",
    "PICKLE_SUFFIXES",
    "BearerInvalid",
    "ByteRange",
    "CardInvalid",
    "DataFileCheck",
    "DataFileRefused",
    "DeclaredEval",
    "DigestInvalid",
    "MessageTooLong",
    "ModelIndexInvalid",
    "NameInvalid",
    "PathRefused",
    "Range",
    "RangeNotSatisfiable",
    "RuleError",
    "SettingInvalid",
    "TargetRefused",
    "Version",
    "VersionInvalid",
    "check_data_file",
    "check_data_path",
    "check_digest",
    "check_manifest_paths",
    "check_message",
    "check_name",
    "check_not_pickle",
    "check_not_pickle_content",
    "check_path",
    "check_version",
    "commit_id",
    "data_kind",
    "declared_evals",
    "eval_results_declared",
    "is_commit",
    "is_digest",
    "is_eval_results_path",
    "is_name",
    "is_pickle",
    "is_pickle_bytes",
    "is_pickle_name",
    "is_range",
    "is_repo_id",
    "is_version",
    "load_front_matter",
    "load_yaml",
    "matches",
    "model_index_entry",
    "newest",
    "parse_bearer",
    "parse_card",
    "parse_content_range",
    "parse_range",
    "parse_version",
    "parse_version_range",
    "sort_key",
    "split_card",
    "split_repo_id",
    "write_atomically",
]
