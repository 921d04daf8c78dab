"""Does an explanation beat the vessel prior? The verdict of a run's boards, from the
per-seed bootstrap confidence intervals in ``results.csv``. Torch-free."""

from __future__ import annotations

import pandas as pd

__all__ = ["prior_verdicts", "VERDICT_BOUNDS", "VERDICT_HEADER", "YES", "NO", "NOT_APPLICABLE"]

# The verdict: a seed beats the prior when a CI lower bound clears the prior's score.
VERDICT_BOUNDS = {"prior-skill": 0.0, "vessel-auroc": 0.5}
VERDICT_HEADER = "beats vessel prior"
YES, NO, NOT_APPLICABLE = "yes", "no", "n/a"


def prior_verdicts(table: pd.DataFrame) -> dict[tuple[str, str, str], str]:
    """(generator, architecture, explainer) -> does it beat the vessel prior?

    ``yes`` when in every seed the bootstrap 95% CI lower bound (``ci_low``) of
    ``prior-skill`` is above 0 or that of ``vessel-auroc`` above 0.5; ``n/a`` when
    neither metric has a CI in any seed; ``no`` otherwise (a seed without a CI cannot
    show that it beats the prior, so it counts against).
    """
    chosen = table[table["metric"].isin(list(VERDICT_BOUNDS))]
    if chosen.empty:
        return {}
    keys = ["generator", "architecture", "explainer", "seed"]
    # min: a duplicated row (there should be none) can only make the verdict stricter.
    ci_low = chosen.groupby(keys + ["metric"], sort=False)["ci_low"].min().unstack("metric")
    beats = pd.Series(False, index=ci_low.index)
    for metric, bound in VERDICT_BOUNDS.items():
        if metric in ci_low:
            beats |= ci_low[metric].astype(float) > bound  # NaN compares False
    per_seed = pd.DataFrame({"beats": beats, "decided": ci_low.notna().any(axis=1)})
    per_pair = per_seed.groupby(level=[0, 1, 2], sort=False).agg(all_beat=("beats", "all"),
                                                                  decided=("decided", "any"))
    return {tuple(str(k) for k in pair): (NOT_APPLICABLE if not row.decided else YES if row.all_beat else NO)
            for pair, row in per_pair.iterrows()}
