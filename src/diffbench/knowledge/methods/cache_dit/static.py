from diffbench.evaluation.static.detection import params

DBCACHE = {
    "residual_diff_threshold": (None, 0.08),
    "Fn_compute_blocks": (None, 8),
    "Bn_compute_blocks": (None, 0),
    "max_warmup_steps": (None, 8),
}
NAMES = {
    "residual_diff_threshold": "threshold",
    "Fn_compute_blocks": "fn_blocks",
    "Bn_compute_blocks": "bn_blocks",
    "max_warmup_steps": "warmup_steps",
}


def detect(facts):
    # `cache_dit.enable_cache(pipe, cache_config=DBCacheConfig(...), calibrator_config=TaylorSeerCalibratorConfig())`
    if not facts.find("cache_dit.enable_cache"):
        return None
    configs = facts.find("DBCacheConfig")
    found = {NAMES[k]: v for k, v in params(configs[-1], DBCACHE).items()} if configs else {}
    found["taylorseer"] = bool(facts.find("TaylorSeerCalibratorConfig"))
    return found
