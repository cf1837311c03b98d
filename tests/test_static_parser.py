"""The static parser on hand-written solution variants: the indirection LLM code uses, wrong ids, missing
steps, and broken files (which give a compile-error result, never an exception)."""

import textwrap

import pytest

from diffbench.evaluation.static import analyze
from diffbench.tasks.attributes import Attributes, mismatches

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"


def parse(source: str):
    result = analyze(textwrap.dedent(source))
    assert result.compile_error is None, result.compile_error
    return result.attributes


def plain(call: str = "pipe(prompt=request['prompt'], num_inference_steps=30, height=512, width=512)", load: str = "",
          imports: str = "", model: str = f'"{SD15}"') -> str:  # fmt: skip
    return f"""
import torch
from diffusers import StableDiffusionPipeline, DDIMScheduler
{imports}

def load_pipeline(device):
    pipe = StableDiffusionPipeline.from_pretrained({model})
    pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
{textwrap.indent(textwrap.dedent(load), "    ")}
    return pipe.to(device)

def generate(pipe, request):
    return {call}.images
"""


# (name, source, expected attributes: every listed field must equal; methods compared key by key, params subset)
VARIANTS = [
    (
        "canonical",
        plain(),
        dict(
            pipeline_class="StableDiffusionPipeline",
            model_id=SD15,
            scheduler_class="DDIMScheduler",
            num_inference_steps=30,
            resolution=(512, 512),
            dtype="float32",
            methods={},
        ),
    ),
    (
        "class and scheduler aliases",
        """
        from diffusers import StableDiffusionPipeline as SDP, DDIMScheduler as Fast
        def load_pipeline(device):
            p = SDP.from_pretrained("stable-diffusion-v1-5/stable-diffusion-v1-5")
            p.scheduler = Fast.from_config(p.scheduler.config)
            return p
        def generate(p, request):
            return p(request["prompt"], num_inference_steps=25).images
        """,
        dict(pipeline_class="StableDiffusionPipeline", scheduler_class="DDIMScheduler", num_inference_steps=25),
    ),
    (
        "module alias",
        """
        import diffusers as d
        def load_pipeline(device):
            pipe = d.StableDiffusionPipeline.from_pretrained("stable-diffusion-v1-5/stable-diffusion-v1-5")
            pipe.scheduler = d.DPMSolverMultistepScheduler.from_config(pipe.scheduler.config)
            return pipe
        def generate(pipe, request):
            return pipe(request["prompt"], num_inference_steps=20).images
        """,
        dict(pipeline_class="StableDiffusionPipeline", scheduler_class="DPMSolverMultistepScheduler"),
    ),
    (
        "constants and local variables",
        """
        from diffusers import StableDiffusionPipeline, UniPCMultistepScheduler
        MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
        STEPS = 40
        SIZE = 512
        def load_pipeline(device):
            model = MODEL
            pipe = StableDiffusionPipeline.from_pretrained(model)
            pipe.scheduler = UniPCMultistepScheduler.from_config(pipe.scheduler.config)
            return pipe
        def generate(pipe, request):
            steps = STEPS // 2
            return pipe(request["prompt"], num_inference_steps=steps, height=SIZE, width=SIZE).images
        """,
        dict(model_id=SD15, num_inference_steps=20, resolution=(512, 512)),
    ),
    (
        "keyword dict from dict()",
        plain("pipe(**kwargs)", imports="kwargs = dict(prompt='x', num_inference_steps=22, height=512, width=512)"),
        dict(num_inference_steps=22, resolution=(512, 512)),
    ),
    (
        "keyword dict literal, update and item assignment",
        """
        from diffusers import StableDiffusionPipeline
        def load_pipeline(device):
            return StableDiffusionPipeline.from_pretrained("stable-diffusion-v1-5/stable-diffusion-v1-5")
        def generate(pipe, request):
            kw = {"prompt": request["prompt"], "num_inference_steps": 10}
            kw.update(height=768, width=768)
            kw["num_inference_steps"] = 35
            return pipe(**kw).images
        """,
        dict(num_inference_steps=35, resolution=(768, 768), scheduler_class="PNDMScheduler"),
    ),
    ("f-string id", plain(model='f"{ORG}/{ORG}"', imports='ORG = "stable-diffusion-v1-5"'), dict(model_id=SD15)),
    (
        "concatenated id",
        plain(model='"stable-diffusion-v1-5/" + NAME', imports='NAME = "stable-diffusion-v1-5"'),
        dict(model_id=SD15),
    ),
    ("str.format id", plain(model='"{}/{}".format(A, A)', imports='A = "stable-diffusion-v1-5"'), dict(model_id=SD15)),
    (
        "scheduler passed to from_pretrained",
        """
        from diffusers import StableDiffusionPipeline, UniPCMultistepScheduler
        M = "stable-diffusion-v1-5/stable-diffusion-v1-5"
        def load_pipeline(device):
            scheduler = UniPCMultistepScheduler.from_pretrained(M, subfolder="scheduler")
            return StableDiffusionPipeline.from_pretrained(M, scheduler=scheduler).to(device)
        def generate(pipe, request):
            return pipe(request["prompt"], num_inference_steps=12).images
        """,
        dict(scheduler_class="UniPCMultistepScheduler", num_inference_steps=12),
    ),
    (
        "helper builds the pipeline",
        """
        import torch
        from diffusers import StableDiffusionPipeline
        def build(model_id, dtype=torch.float32):
            pipe = StableDiffusionPipeline.from_pretrained(model_id, torch_dtype=dtype)
            return pipe
        def load_pipeline(device):
            return build("stable-diffusion-v1-5/stable-diffusion-v1-5", dtype=torch.float16).to(device)
        def generate(pipe, request):
            return pipe(request["prompt"]).images
        """,
        dict(model_id=SD15, dtype="float16", methods={"fp16": {}}, num_inference_steps=50),
    ),
    (
        "helper swaps the scheduler",
        """
        from diffusers import StableDiffusionPipeline, DDIMScheduler
        def use_ddim(p):
            p.scheduler = DDIMScheduler.from_config(p.scheduler.config)
        def load_pipeline(device):
            pipe = StableDiffusionPipeline.from_pretrained("stable-diffusion-v1-5/stable-diffusion-v1-5")
            use_ddim(pipe)
            return pipe
        def generate(pipe, request):
            return pipe(request["prompt"], num_inference_steps=30).images
        """,
        dict(scheduler_class="DDIMScheduler"),
    ),
    (
        "helper returns the call arguments",
        """
        from diffusers import StableDiffusionPipeline
        def call_args(request, steps=18, size=512):
            return {"prompt": request["prompt"], "num_inference_steps": steps, "height": size, "width": size}
        def load_pipeline(device):
            return StableDiffusionPipeline.from_pretrained("stable-diffusion-v1-5/stable-diffusion-v1-5")
        def generate(pipe, request):
            return pipe(**call_args(request, size=768)).images
        """,
        dict(num_inference_steps=18, resolution=(768, 768)),
    ),
    (
        "global pipeline cache",
        """
        from diffusers import StableDiffusionPipeline
        PIPE = None
        def load_pipeline(device):
            global PIPE
            PIPE = StableDiffusionPipeline.from_pretrained("stable-diffusion-v1-5/stable-diffusion-v1-5")
            return PIPE
        def generate(pipe, request):
            return PIPE(request["prompt"], num_inference_steps=21).images
        """,
        dict(model_id=SD15, num_inference_steps=21),
    ),
    (
        "wrong (deprecated) id",
        plain(model='"runwayml/stable-diffusion-v1-5"'),
        dict(model_id="runwayml/stable-diffusion-v1-5", scheduler_class="DDIMScheduler"),
    ),
    ("missing steps take the pipeline's default", plain("pipe(request['prompt'])"), dict(num_inference_steps=50)),
    (
        "missing steps on PixArt default to 20",
        """
        from diffusers import PixArtAlphaPipeline
        def load_pipeline(device):
            return PixArtAlphaPipeline.from_pretrained("PixArt-alpha/PixArt-XL-2-512x512")
        def generate(pipe, request):
            return pipe(request["prompt"]).images
        """,
        dict(num_inference_steps=20, resolution=(512, 512), scheduler_class="DPMSolverMultistepScheduler"),
    ),
    (
        "steps from the environment are undetermined",
        plain("pipe(request['prompt'], num_inference_steps=int(os.environ.get('STEPS', 30)))", imports="import os"),
        dict(num_inference_steps=None),
    ),
    ("fp16 through .to(device, dtype)", plain(load="pipe.to('cuda', torch.float16)"), dict(dtype="float16")),
    ("fp16 through .half()", plain(load="pipe = pipe.half()"), dict(dtype="float16", methods={"fp16": {}})),
    (
        "bf16 through dtype=",
        plain(model=f'"{SD15}", dtype=torch.bfloat16'),
        dict(dtype="bfloat16", methods={"bf16": {}}),
    ),
    (
        "DeepCache with positional set_params",
        plain(
            imports="from DeepCache import DeepCacheSDHelper",
            load="""
        helper = DeepCacheSDHelper(pipe=pipe)
        helper.set_params(4, 1)
        helper.enable()
        """,
        ),
        dict(methods={"deepcache": {"cache_interval": 4, "cache_branch_id": 1}}),
    ),
    (
        "DeepCache never enabled is not applied",
        plain(
            imports="from DeepCache import DeepCacheSDHelper",
            load="""
        helper = DeepCacheSDHelper(pipe=pipe)
        helper.set_params(cache_interval=3)
        """,
        ),
        dict(methods={}),
    ),
    (
        "ToMe ratio through a variable",
        plain(imports="import tomesd as tm\nRATIO = 0.4", load="tm.apply_patch(pipe, ratio=RATIO)"),
        dict(methods={"tome": {"ratio": 0.4, "max_downsample": 1}}),
    ),
    (
        "ToMe library defaults",
        plain(imports="import tomesd", load="tomesd.apply_patch(pipe.unet)"),
        dict(methods={"tome": {"ratio": 0.5}}),
    ),
    (
        "T-GATE with a keyword dict",
        """
        from diffusers import StableDiffusionPipeline
        from tgate import TgateSDLoader
        GATE = dict(gate_step=12, num_inference_steps=25)
        def load_pipeline(device):
            pipe = StableDiffusionPipeline.from_pretrained("stable-diffusion-v1-5/stable-diffusion-v1-5")
            pipe = TgateSDLoader(pipe)
            return pipe
        def generate(pipe, request):
            return pipe.tgate(request["prompt"], **GATE).images
        """,
        dict(num_inference_steps=25, methods={"tgate": {"gate_step": 12, "sp_interval": 5}}),
    ),
    (
        "T-GATE loaded but pipe() called: not applied",
        """
        from diffusers import StableDiffusionPipeline
        from tgate import TgateSDLoader
        def load_pipeline(device):
            return TgateSDLoader(StableDiffusionPipeline.from_pretrained("stable-diffusion-v1-5/stable-diffusion-v1-5"))
        def generate(pipe, request):
            return pipe(request["prompt"], num_inference_steps=25).images
        """,
        dict(methods={}, pipeline_class="StableDiffusionPipeline"),
    ),
    (
        "tgate's DeepCache loader",
        """
        from diffusers import StableDiffusionXLPipeline
        from tgate import TgateSDXLDeepCacheLoader
        def load_pipeline(device):
            pipe = StableDiffusionXLPipeline.from_pretrained("stabilityai/stable-diffusion-xl-base-1.0")
            return TgateSDXLDeepCacheLoader(pipe, cache_interval=4)
        def generate(pipe, request):
            return pipe.tgate(prompt=request["prompt"], gate_step=8, num_inference_steps=25).images
        """,
        dict(
            pipeline_class="StableDiffusionXLPipeline",
            resolution=(1024, 1024),
            methods={
                "tgate_deepcache": {"cache_interval": 4, "gate_step": 8},
                "deepcache": {"cache_interval": 4},
                "tgate": {"gate_step": 8},
            },
        ),
    ),
    (
        "ControlNet canny with cv2",
        """
        import cv2, numpy as np
        from PIL import Image
        from diffusers import StableDiffusionControlNetPipeline, ControlNetModel
        CN = "lllyasviel/sd-controlnet-canny"
        def load_pipeline(device):
            controlnet = ControlNetModel.from_pretrained(CN)
            return StableDiffusionControlNetPipeline.from_pretrained(
                "stable-diffusion-v1-5/stable-diffusion-v1-5", controlnet=controlnet)
        def edges(img):
            e = cv2.Canny(np.array(img), 100, 200)
            return Image.fromarray(np.stack([e] * 3, -1))
        def generate(pipe, request):
            return pipe(request["prompt"], image=edges(request["image"].resize((512, 512))),
                        num_inference_steps=20).images
        """,
        dict(
            pipeline_class="StableDiffusionControlNetPipeline",
            controlnet_id="lllyasviel/sd-controlnet-canny",
            preprocessors=("canny",),
            resolution=(512, 512),
        ),
    ),
    (
        "img2img size from a resize with variables",
        """
        from diffusers import StableDiffusionImg2ImgPipeline
        W, H = 768, 768
        def load_pipeline(device):
            return StableDiffusionImg2ImgPipeline.from_pretrained("stabilityai/stable-diffusion-2-1")
        def generate(pipe, request):
            init = request["image"].convert("RGB").resize((W, H))
            return pipe(prompt=request["prompt"], image=init, strength=0.7).images
        """,
        dict(pipeline_class="StableDiffusionImg2ImgPipeline", resolution=(768, 768), scheduler_class="DDIMScheduler"),
    ),
    (
        "img2img without a resize has no stated resolution",
        """
        from diffusers import StableDiffusionImg2ImgPipeline
        def load_pipeline(device):
            return StableDiffusionImg2ImgPipeline.from_pretrained("stabilityai/stable-diffusion-2-1")
        def generate(pipe, request):
            return pipe(prompt=request["prompt"], image=request["image"]).images
        """,
        dict(resolution=None),
    ),
    (
        "AutoPipeline resolves to the family's class",
        """
        from diffusers import AutoPipelineForText2Image
        def load_pipeline(device):
            return AutoPipelineForText2Image.from_pretrained("stabilityai/stable-diffusion-xl-base-1.0")
        def generate(pipe, request):
            return pipe(request["prompt"], num_inference_steps=30).images
        """,
        dict(pipeline_class="StableDiffusionXLPipeline", scheduler_class="EulerDiscreteScheduler"),
    ),
    (
        "DiffusionPipeline for DiT",
        """
        from diffusers import DiffusionPipeline
        def load_pipeline(device):
            return DiffusionPipeline.from_pretrained("facebook/DiT-XL-2-256")
        def generate(pipe, request):
            return pipe(class_labels=[request["class_label"]], num_inference_steps=25).images
        """,
        dict(pipeline_class="DiTPipeline", resolution=(256, 256), num_inference_steps=25),
    ),
    (
        "torch.compile, QKV fusion and channels_last",
        plain(
            load="""
        pipe.fuse_qkv_projections()
        pipe.unet.to(memory_format=torch.channels_last)
        pipe.unet = torch.compile(pipe.unet, mode="max-autotune")
        """
        ),
        dict(methods={"qkv_fusion": {}, "channels_last": {}, "torch_compile": {"mode": "max-autotune"}}),
    ),
    (
        "diffusers' own PAB and FirstBlockCache configs",
        """
        from diffusers import PixArtSigmaPipeline, PyramidAttentionBroadcastConfig, FirstBlockCacheConfig
        from diffusers.hooks import apply_first_block_cache
        def load_pipeline(device):
            pipe = PixArtSigmaPipeline.from_pretrained("PixArt-alpha/PixArt-Sigma-XL-2-512-MS")
            cfg = PyramidAttentionBroadcastConfig(spatial_attention_block_skip_range=3,
                                                  spatial_attention_timestep_skip_range=(100, 700))
            pipe.transformer.enable_cache(cfg)
            apply_first_block_cache(pipe.transformer, FirstBlockCacheConfig(threshold=0.1))
            return pipe
        def generate(pipe, request):
            return pipe(request["prompt"], num_inference_steps=20).images
        """,
        dict(
            methods={
                "pab": {"spatial_skip": 3, "timestep_low": 100, "timestep_high": 700},
                "first_block_cache": {"threshold": 0.1},
            }
        ),
    ),
    (
        "scheduler class through a variable, last assignment wins",
        """
        from diffusers import StableDiffusionPipeline, DDIMScheduler, UniPCMultistepScheduler
        FAST = True
        def load_pipeline(device):
            pipe = StableDiffusionPipeline.from_pretrained("stable-diffusion-v1-5/stable-diffusion-v1-5")
            scheduler_cls = UniPCMultistepScheduler if FAST else DDIMScheduler
            pipe.scheduler = scheduler_cls.from_config(pipe.scheduler.config)
            return pipe
        def generate(pipe, request):
            return pipe(request["prompt"], num_inference_steps=15).images
        """,
        dict(scheduler_class="UniPCMultistepScheduler"),
    ),
    (
        "non-square size",
        plain("pipe(request['prompt'], num_inference_steps=30, height=512, width=768)"),
        dict(resolution=(512, 768)),
    ),
    (
        "dead helper code does not count",
        plain(
            imports="""
import tomesd
def unused(pipe):
    tomesd.apply_patch(pipe, ratio=0.5)
"""
        ),
        dict(methods={}),
    ),
]


@pytest.mark.parametrize(("name", "source", "expected"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_variant(name, source, expected):
    found = parse(source)
    for field, want in expected.items():
        got = getattr(found, field)
        if field == "methods":
            assert set(got) == set(want), (name, got)
            for key, params in want.items():
                assert {p: got[key].get(p) for p in params} == params, (name, key, got[key])
        else:
            assert got == want, (name, field, got)


def test_there_are_at_least_thirty_variants():
    assert len(VARIANTS) >= 30


def test_a_wrong_id_fails_the_key_attributes_by_name():
    task_side = Attributes(model_id=SD15, scheduler_class="DDIMScheduler", num_inference_steps=30)
    found = parse(plain(model='"runwayml/stable-diffusion-v1-5"'))
    assert mismatches(task_side, found) == [f"model_id: expected '{SD15}', found 'runwayml/stable-diffusion-v1-5'"]


def test_extras_are_tolerated_but_missing_parameters_are_not():
    found = parse(
        plain(imports="import tomesd", load="tomesd.apply_patch(pipe, ratio=0.3)\npipe.fuse_qkv_projections()")
    )
    assert mismatches(Attributes(methods={"tome": {"ratio": 0.3}}), found) == []
    assert mismatches(Attributes(methods={"tome": {"ratio": 0.5}}), found) == [
        "methods: tome.ratio expected 0.5, found 0.3"
    ]
    assert mismatches(Attributes(methods={"deepcache": {"cache_interval": 3}}), found) == [
        "methods: deepcache expected, not found"
    ]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def load_pipeline(device):\n    return (\n", "SyntaxError"),
        ("def load_pipeline(device):\n  x = 1\n    y = 2\n", "IndentationError"),
        ("x = 1\x00\n", "Error"),
        ("def load_pipeline(device):\n    return 1\n", "defines no generate()"),
        ("def load_pipeline(device):\n    return 1\ndef generate(pipe):\n    return []\n", "2 positional"),
        ("x = " + "(" * 500 + ")" * 500 + "\n", "Error"),
    ],
    ids=["syntax", "indentation", "null byte", "missing generate", "wrong arity", "too deeply nested"],
)
def test_malformed_files_give_a_compile_error_result(source, message):
    result = analyze(source)
    assert result.compile_error is not None and message in result.compile_error
    assert result.attributes is None


def test_hostile_constants_do_not_hang_or_exhaust_the_parser():
    source = plain(imports='BIG = "a" * 10**9\nHUGE = 9**9**9\n' + "def loop(n):\n    return loop(n + 1)\nloop(0)\n")
    found = parse(source)
    assert found.model_id == SD15


def test_odd_but_valid_code_yields_attributes_not_exceptions():
    source = """
        import diffusers
        class Wrapper:
            def __init__(self):
                self.pipe = None
        def load_pipeline(device, *args, **kwargs):
            w = Wrapper()
            [x for x in range(3)]
            lambda: None
            match device:
                case "cpu":
                    pass
            return w
        def generate(pipe, request, /):
            return pipe.pipe(*request["prompts"])
        """
    found = parse(source)
    assert found.pipeline_class is None and found.num_inference_steps is None
