"""Entity resolution: which enterprise a record belongs to.

USCC exact first (the caller's dictionary). Without a USCC: the normalised name (brackets, spaces,
full-width, 有限责任公司/有限公司 folded) looked up exactly, then fuzzily with rapidfuzz, the address
weighing in. The score decides: ≥ auto threshold links (`linked_by_name`), the grey zone goes to the
review queue, below is unresolved. Everything is preloaded once per batch: no per-row queries.

Large batches: `prepare(pairs)` receives the batch's distinct (name, address) pairs before its rows are
resolved. When at least `large_batch` (LARGE_BATCH) distinct pairs have no exact normalised-name match, they
are linked in one splink job (`linkage.link`) instead of one rapidfuzz search each, and the results fill the
cache that `match()` reads: the score is then the splink match probability, judged by the same thresholds.
Exact unique normalised names still link as before (they never go to splink).
"""

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .normalisers import address_key, name_key

LARGE_BATCH = 5000  # distinct pairs needing a fuzzy match from which splink replaces rapidfuzz
AMBIGUITY_MARGIN = 0.05  # splink: a runner-up this close (and itself ≥ review) sends the pair to review
NAME_WEIGHT = 0.75
EXACT_NAME_FLOOR = 0.95  # a unique exact normalised name links even when the address is written differently


@dataclass(frozen=True)
class Match:
    enterprise_id: int | None
    score: float
    decision: str  # "link" | "review" | "none"
    name_variant: bool = False


NO_MATCH = Match(None, 0.0, "none")


class Resolver:
    def __init__(self, enterprises, auto_threshold=0.92, review_threshold=0.75, large_batch=None):
        """enterprises: iterable of (id, name, former_names, address)."""
        self.auto, self.review = float(auto_threshold), float(review_threshold)
        self.large_batch = LARGE_BATCH if large_batch is None else int(large_batch)
        self.method = "rapidfuzz"  # what prepare() chose for the fuzzy pairs of this batch
        self.by_key = {}
        self.names = {}
        self.addresses = {}
        self.former = {}
        self.raw_addresses = {}
        for pk, name, former, addr in enterprises:
            self.former[pk] = list(former or [])
            self.raw_addresses[pk] = addr or ""
            self.names[pk] = name
            self.addresses[pk] = address_key(addr or "")
            for n in [name, *(former or [])]:
                if n:
                    self.by_key.setdefault(name_key(n), []).append(pk)
        for key in self.by_key:
            self.by_key[key] = sorted(set(self.by_key[key]))
        self.keys = list(self.by_key)
        self._cache = {}

    def _address_similarity(self, pk, addr):
        if not addr or not self.addresses.get(pk):
            return None
        return fuzz.ratio(addr, self.addresses[pk]) / 100.0

    def _score(self, name_sim, pk, addr):
        addr_sim = self._address_similarity(pk, addr)
        if addr_sim is None:
            return name_sim
        return NAME_WEIGHT * name_sim + (1 - NAME_WEIGHT) * addr_sim

    def match(self, name, address=""):
        if not name:
            return NO_MATCH
        nk, ak = name_key(name), address_key(address or "")
        cached = self._cache.get((nk, ak))
        if cached is None:
            cached = self._cache[(nk, ak)] = self._match(nk, ak)
        if cached.enterprise_id is None:
            return cached
        variant = name != self.names.get(cached.enterprise_id)
        return Match(cached.enterprise_id, cached.score, cached.decision, variant)

    def prepare(self, pairs):
        """Hand over the batch's (name, address) pairs before its rows are matched: with ≥ large_batch distinct
        pairs needing a fuzzy match, link them all at once with splink. Returns "splink" or "rapidfuzz"."""
        pending = {}
        for name, address in pairs:
            if not name:
                continue
            name, address = str(name), str(address or "")  # raw cells: numbers or JSON values are text here
            key = (name_key(name), address_key(address))
            if key in self._cache or key in pending or key[0] in self.by_key:
                continue  # already known, or an exact normalised name: the exact path decides
            pending[key] = (name, address)
        if not pending or not self.keys or len(pending) < self.large_batch:
            return self.method
        from .linkage import link

        ents = ((pk, self.names[pk], self.former[pk], self.raw_addresses[pk]) for pk in self.names)
        found = link(pending.values(), ents)
        for key in pending:
            hit = found.get(key)
            self._cache[key] = NO_MATCH if hit is None else self._decide_linked(*hit)
        self.method = "splink"
        return self.method

    def _decide_linked(self, pk, probability, runner_up):
        if runner_up >= self.review and probability - runner_up < AMBIGUITY_MARGIN:
            return Match(pk, min(probability, self.auto - 0.01), "review")  # two candidates nearly as likely
        return self._decide(pk, probability)

    def _decide(self, pk, score):
        if score >= self.auto:
            return Match(pk, score, "link")
        if score >= self.review:
            return Match(pk, score, "review")
        return Match(pk, score, "none")

    def _match(self, nk, ak):
        exact = self.by_key.get(nk)
        if exact:
            scored = sorted(((self._score(1.0, pk, ak), pk) for pk in exact), reverse=True)
            best_score, best = scored[0]
            if len(scored) == 1:
                return self._decide(best, max(best_score, EXACT_NAME_FLOOR))
            if scored[1][0] >= best_score - 1e-9:  # two namesakes equally close: a person decides
                return Match(best, min(best_score, self.auto - 0.01), "review")
            return self._decide(best, best_score)
        if not self.keys:
            return NO_MATCH
        cutoff = max(0.0, self.review - (1 - NAME_WEIGHT)) * 100
        hits = process.extract(nk, self.keys, scorer=fuzz.ratio, limit=5, score_cutoff=cutoff)
        best = None
        for key, sim, _idx in hits:
            for pk in self.by_key[key]:
                score = self._score(sim / 100.0, pk, ak)
                if best is None or score > best[0]:
                    best = (score, pk)
        if best is None:
            return NO_MATCH
        return self._decide(best[1], best[0])
