"""Person and household resolution (人员与家庭识别): one person, one ID, across departments.

Public entry points:

- `match_files`: generic linking of two files (or deduplication of one) from a column map;
- `resolve`: score, threshold and cluster a prepared node table (shared by everything);
- `prepare_nodes`, `name_features`: the Chinese-aware comparison keys.
"""

from __future__ import annotations

from dixian.link.chinese import NameFeatures, name_features, name_key
from dixian.link.clustering import cluster_edges
from dixian.link.generic import ColumnMap, MatchResult, load_column_map, match_files
from dixian.link.matcher import Matcher, MatcherOptions
from dixian.link.prepare import prepare_nodes
from dixian.link.resolve import Resolution, resolve
from dixian.link.thresholds import Thresholds, choose_thresholds

__all__ = [
    "ColumnMap",
    "MatchResult",
    "Matcher",
    "MatcherOptions",
    "NameFeatures",
    "Resolution",
    "Thresholds",
    "choose_thresholds",
    "cluster_edges",
    "load_column_map",
    "match_files",
    "name_features",
    "name_key",
    "prepare_nodes",
    "resolve",
]
