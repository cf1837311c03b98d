def detect(facts):
    # Pipelines and transformers have fuse_qkv_projections(); single attention modules have fuse_projections().
    return {} if facts.find("fuse_qkv_projections", "fuse_projections") else None
