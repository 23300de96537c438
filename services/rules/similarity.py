"""Comments that ask for the same change (issue #17 §3, and §2's "said before").

Lexical and offline: each comment (its text and its proposed change) becomes two TF-IDF vectors,
one of word stems and stem bigrams, one of character 4-grams inside words (robust to typos and
to inflections the light stemmer misses). Two comments score the mean of the two cosines, scaled
by how near their clauses are: the same words on a distant clause ("Figure 11 is not cited" at
9.4.1 and at 9.5.1) are usually a different request.

Fast enough for a large DIS ballot in pure Python: pairs are found through an inverted index of
the rarer word stems (a stem in more than a tenth of the comments carries little weight and would
make every pair a candidate), and only candidates get the full score.

Groups are built greedily from the best pair down (single link), never putting two comments of the
same body in one group: a group answers "which bodies ask for this", so a body appears once.
Everything is ordered by score, then by the items' own order, so the result is deterministic.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from services.rules import clauses

# Chosen on the labelled set in tests/similar_comments.py and the TC 211 DIS 19156 table.
THRESHOLD = 0.36

_TOKEN_RE = re.compile(r"[0-9]+(?:\.[0-9]+)*|[^\W\d_]+")
_STOPWORDS = frozenset(
    str.split(
        """a about above after again all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each either etc few for from further
    had has have having here how however i if in into is it its itself just me more most my no nor not
    of off on once only or other our ours out over own same she so some such than that the their them
    then there these they this those through thus to too under until up us very via was we were what
    when where which while who whom why will with would you your e g eg ie i.e
    please propose proposed proposal suggest suggested suggestion recommend kindly comment comments
    change changes"""
    )
)
# Longest first: the first suffix that leaves a stem of at least three letters is taken off.
_SUFFIXES = (
    "ational",
    "ations",
    "ation",
    "ments",
    "ment",
    "ities",
    "ness",
    "ings",
    "ing",
    "ions",
    "ion",
    "ity",
    "ies",
    "ied",
    "ive",
    "ise",
    "ize",
    "ed",
    "es",
    "ly",
    "al",
    "e",
    "s",
    "y",
)
_CANDIDATE_SHARE = 0.1  # a stem in more comments than this share does not make candidates
_CANDIDATE_MIN_DF = 8  # ... unless the ballot is small
_CANDIDATE_FLOOR = 0.08  # the partial word cosine a pair needs to be scored in full
_FACTORS = {"same": 1.4, "near": 1.0, "unplaced": 0.8, "far": 0.6}  # see clause_factor
_WORD_WEIGHT = 0.6  # of the word cosine in the score; the rest is the character cosine


@dataclass(frozen=True)
class Item:
    """One comment as the engine sees it."""

    key: str  # the reference, unique among the items
    body: str
    clause: str
    text: str  # the comment and its proposed change


@dataclass(frozen=True)
class Pair:
    first: int  # indices into the items, first < second
    second: int
    score: float


@dataclass(frozen=True)
class Group:
    references: tuple[str, ...]
    clause: str
    score: float  # the weakest link that holds the group together


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    if word[0].isdigit() or len(word) <= 4:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def words(text: str) -> list[str]:
    """Case-folded, accent-folded words and numbers ("3.20" stays one token)."""
    folded = text.casefold()
    if not folded.isascii():
        folded = "".join(ch for ch in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(ch))
    return _TOKEN_RE.findall(folded)


@lru_cache(maxsize=65536)
def _grams(token: str) -> frozenset[str]:
    padded = f" {token} "
    if len(padded) <= 4:
        return frozenset((padded,))
    return frozenset([padded[i : i + 4] for i in range(len(padded) - 3)])


def _features(text: str) -> tuple[Counter[str], frozenset[str]]:
    """Word stems and stem bigrams with their counts; the character 4-grams of the distinct words
    (present or not: a long comment repeating a word says no more about it)."""
    tokens = words(text)
    distinct = set(tokens)
    stems_of = {t: stem(t) for t in distinct if t not in _STOPWORDS}
    stems = [stems_of[t] for t in tokens if t in stems_of]
    word_features: Counter[str] = Counter(stems)
    word_features.update([f"{a} {b}" for a, b in pairwise(stems)])
    return word_features, frozenset().union(*[_grams(t) for t in distinct])


_LOG_TF = [0.0] + [1.0 + math.log(tf) for tf in range(1, 256)]


def _idf(bags: Sequence[Collection[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency over the terms each comment has (each counted once)."""
    df: Counter[str] = Counter()
    for bag in bags:
        df.update(bag)
    n = len(bags)
    return {term: math.log((1 + n) / (1 + count)) + 1.0 for term, count in df.items()}


def _vector(bag: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    weights = {term: (_LOG_TF[tf] if tf < 256 else 1.0 + math.log(tf)) * idf[term] for term, tf in bag.items()}
    norm = math.sqrt(sum([w * w for w in weights.values()])) or 1.0
    return {term: w / norm for term, w in weights.items()}


def _set_vector(grams: frozenset[str], idf: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum([idf[g] * idf[g] for g in grams])) or 1.0
    return {g: idf[g] / norm for g in grams}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    return sum([a[term] * b[term] for term in a.keys() & b.keys()])


def _place(clause: str) -> tuple[int, str, tuple[int, ...]] | None:
    """Where a clause is in the document, or None when it names no place (general, a table)."""
    key = clauses.clause_key(clause)
    group, letters, numbers = key[0], key[1], key[2]
    assert isinstance(group, int) and isinstance(letters, str) and isinstance(numbers, tuple)
    if group in (0, 9):  # general / whole document, and "Table 3" on its own
        return None
    return (group, letters, numbers)


def clause_factor(a: str, b: str) -> float:
    """How much the clauses of two comments change their score: the same clause raises it, the
    same parent clause keeps it, distant clauses lower it; a comment on the whole document may
    be about any clause."""
    pa, pb = _place(a), _place(b)
    if pa is None or pb is None:
        return _FACTORS["unplaced"]
    if pa == pb:
        return _FACTORS["same"]
    if pa[:2] != pb[:2]:
        return _FACTORS["far"]
    na, nb = pa[2], pb[2]
    short = min(len(na), len(nb))
    if na[:short] == nb[:short] or (short >= 2 and na[: short - 1] == nb[: short - 1]):
        return _FACTORS["near"]  # a clause and its subclause, or two subclauses of one clause
    return _FACTORS["far"]


def scored_pairs(
    items: Sequence[Item], threshold: float = THRESHOLD, wanted: Callable[[int, int], bool] | None = None
) -> list[Pair]:
    """The pairs of items that say the same, best first; `wanted(i, j)` (i < j, indices into the
    items) limits which pairs count, by default to comments of different bodies."""
    accept = wanted or (lambda i, j: items[i].body != items[j].body)
    bags = [_features(item.text) for item in items]
    word_idf = _idf([w.keys() for w, _ in bags])
    word_vectors = [_vector(w, word_idf) for w, _ in bags]
    char_idf = _idf([c for _, c in bags])
    char_vectors: dict[int, dict[str, float]] = {}  # only for the comments in a candidate pair

    def chars(i: int) -> dict[str, float]:
        if i not in char_vectors:
            char_vectors[i] = _set_vector(bags[i][1], char_idf)
        return char_vectors[i]

    n = len(items)
    cap = max(_CANDIDATE_MIN_DF, int(n * _CANDIDATE_SHARE))
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for i, vector in enumerate(word_vectors):
        for term, w in vector.items():
            if " " not in term:  # stems only: bigrams would multiply the work, not the pairs found
                postings[term].append((i, w))
    partial: list[dict[int, float]] = [{} for _ in range(n)]
    for listed in postings.values():
        if len(listed) < 2 or len(listed) > cap:
            continue
        for x, (i, wi) in enumerate(listed):
            row = partial[i]
            for j, wj in listed[x + 1 :]:
                row[j] = row.get(j, 0.0) + wi * wj
    pairs = []
    for i, row in enumerate(partial):
        for j, dot in row.items():
            if dot < _CANDIDATE_FLOOR or not accept(i, j):
                continue
            factor = clause_factor(items[i].clause, items[j].clause)
            text = _WORD_WEIGHT * _cosine(word_vectors[i], word_vectors[j]) + (1 - _WORD_WEIGHT) * _cosine(
                chars(i), chars(j)
            )
            score = min(1.0, text * factor)
            if score >= threshold:
                pairs.append(Pair(i, j, round(score, 4)))
    pairs.sort(key=lambda p: (-p.score, p.first, p.second))
    return pairs


def group(items: Sequence[Item], threshold: float = THRESHOLD) -> list[Group]:
    """Groups of comments from different bodies that ask for the same change, in the items'
    order (give them in the compiled table's order); each group lists its members in that order."""
    parent = list(range(len(items)))
    bodies: dict[int, set[str]] = {i: {item.body} for i, item in enumerate(items)}
    weakest: dict[int, float] = {}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for pair in scored_pairs(items, threshold):
        a, b = root(pair.first), root(pair.second)
        if a == b or bodies[a] & bodies[b]:
            continue
        keep, gone = min(a, b), max(a, b)
        parent[gone] = keep
        bodies[keep] |= bodies.pop(gone)
        weakest[keep] = min(pair.score, weakest.get(keep, 1.0), weakest.pop(gone, 1.0))
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        members[root(i)].append(i)
    groups = []
    for top, indices in sorted(members.items(), key=lambda kv: kv[1][0]):
        if len(indices) < 2:
            continue
        named = Counter(items[i].clause for i in indices if items[i].clause)
        # The clause most of the group names; on a tie, the first member's.
        clause = max(named, key=lambda c: (named[c], -next(k for k in indices if items[k].clause == c)), default="")
        groups.append(Group(tuple(items[i].key for i in indices), clause, weakest[top]))
    return groups


def repeats(current: Sequence[Item], earlier: Sequence[Item], threshold: float = THRESHOLD) -> dict[int, list[int]]:
    """For each current item (by index) that says what the same body said earlier, the indices of
    those earlier items, best first (issue #17 §2)."""
    both = [*current, *earlier]
    n = len(current)
    pairs = scored_pairs(both, threshold, lambda i, j: i < n <= j and both[i].body == both[j].body)
    found: dict[int, list[int]] = {}
    for pair in pairs:
        found.setdefault(pair.first, []).append(pair.second - n)
    return found


def order_key(item: Item) -> tuple[object, ...]:
    """The compiled table's order, which `group` expects its items in."""
    return clauses.comment_order_key(item.clause, None, item.body, item.key)
