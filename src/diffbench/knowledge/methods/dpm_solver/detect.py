from diffbench.knowledge.detection import scheduler_of


def detect(pipe):
    found = scheduler_of(pipe, "DPMSolverMultistepScheduler")
    if found is not None:
        found["solver_order"] = pipe.scheduler.config.solver_order
        found["algorithm_type"] = pipe.scheduler.config.algorithm_type
    return found
