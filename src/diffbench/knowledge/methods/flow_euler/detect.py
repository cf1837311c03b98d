from diffbench.knowledge.detection import scheduler_of


def detect(pipe):
    return scheduler_of(pipe, "FlowMatchEulerDiscreteScheduler")
