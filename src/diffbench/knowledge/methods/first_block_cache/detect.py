from diffbench.knowledge.detection import NEVER_RAN, attention_skipped, denoiser, hooks_named


def detect(pipe):
    module = denoiser(pipe)
    hooks = hooks_named(module, "fbc_leader_block_hook") if module is not None else []
    if not hooks:
        return None
    return {"threshold": hooks[0].threshold}


RULE = "effect-cache-decision"
MEASURES = (
    "after every denoiser call, whether the head block's cache decision ran (its state holds the call's residual); "
    "steps it skipped are counted from the attention calls"
)


def probe(module):
    hooks = hooks_named(module, "fbc_leader_block_hook")
    states = [s for h in hooks for s in getattr(getattr(h, "state_manager", None), "_state_cache", {}).values()]
    return any(getattr(s, "head_block_residual", None) is not None for s in states)


def effect(pipe, trace):
    # FirstBlockCache is adaptive: at a low threshold a model may never skip (the tiny stand-ins rarely do), so
    # the rule asks for the decision itself, which only happens when the hook sits on the denoiser that ran,
    # inside a cache context; the skips are reported as evidence.
    calls = trace.denoiser_calls
    if not calls:
        return False, NEVER_RAN
    undecided = sum(c.probes.get("first_block_cache") is not True for c in calls)
    skipped = attention_skipped(trace)
    detail = skipped[1] if skipped else "attention not traced"
    if undecided:
        return False, f"{undecided} of {len(calls)} denoiser calls ran without the cache's decision ({detail})"
    return True, f"the cache decided on all {len(calls)} denoiser calls; {detail}"
