import pytest

from diffbench.knowledge import load_knowledge
from diffbench.knowledge.compose import Applied, compose, render_sections
from diffbench.knowledge.loader import KnowledgeError
from diffbench.models.families import FAMILIES, Conditioning

SD15 = FAMILIES["sd15"].default.id


def all_pairs():
    kb = load_knowledge()
    for method in kb:
        for fam in method.families:
            for conditioning in FAMILIES[fam].conditionings:
                if method.why_unsupported(fam, str(conditioning)) is None:
                    yield method.key, fam, conditioning


@pytest.mark.parametrize(("key", "family", "conditioning"), list(all_pairs()))
def test_every_pair_composes_to_a_module_that_compiles(key, family, conditioning):
    video = {"width": 256, "frames": 5} if conditioning.video else {}
    source = compose(load_knowledge(), FAMILIES[family].default.id, conditioning, 256, 30, [Applied(key)], **video)
    code = compile(source, f"{key}-{family}.py", "exec")
    names = set(code.co_names)
    assert {"load_pipeline", "generate"} <= names


def test_sampler_steps_set_the_module_step_count():
    source = compose(
        load_knowledge(), SD15, Conditioning.TEXT, 256, 50, [Applied("dpm_solver", {"num_inference_steps": 12})]
    )
    assert "NUM_INFERENCE_STEPS = 12" in source
    assert 'algorithm_type="dpmsolver++"' in source


def test_canny_solutions_preprocess_with_opencv():
    source = compose(load_knowledge(), SD15, Conditioning.CANNY, 256, 50)
    assert "cv2.Canny" in source and "ControlNetModel.from_pretrained(CONTROLNET_ID" in source


def test_unsupported_pair_is_refused_with_the_reason():
    with pytest.raises(KnowledgeError, match="reimplements only the text-to-image"):
        compose(load_knowledge(), SD15, Conditioning.IMAGE, 256, 25, [Applied("tgate")])
    with pytest.raises(KnowledgeError, match="tomesd swaps in a ToMeBlock"):
        compose(load_knowledge(), FAMILIES["dit"].default.id, Conditioning.CLASS, 256, 25, [Applied("tome")])


def test_two_replacements_of_the_pipeline_call_are_refused():
    with pytest.raises(KnowledgeError, match="two methods replace the pipeline call"):
        compose(load_knowledge(), SD15, Conditioning.TEXT, 256, 25, [Applied("tgate"), Applied("tgate_deepcache")])


def test_bad_parameter_is_refused_naming_it():
    with pytest.raises(ValueError, match="cache_interval=0"):
        compose(load_knowledge(), SD15, Conditioning.TEXT, 256, 25, [Applied("deepcache", {"cache_interval": 0})])


def test_sections_reject_stray_lines_and_unknown_sections():
    with pytest.raises(KnowledgeError, match="outside any section"):
        render_sections("pipe.enable()\n")
    with pytest.raises(KnowledgeError, match="unknown template section 'setup'"):
        render_sections("#: setup\nx = 1\n")


def test_a_declared_unsupported_setting_is_refused_and_the_familys_default_avoids_it():
    """cache-dit's TaylorSeer needs a Bn block on SD3.5 (cache-dit 1.5.3): compose refuses bn_blocks=0 there with
    the reason; SD3.5's default is 1, and FLUX keeps cache-dit's own 0."""
    kb = load_knowledge()
    sd35, flux = FAMILIES["sd35"].default.id, FAMILIES["flux"].default.id
    with pytest.raises(KnowledgeError, match="transformer_blocks_Bn_residual"):
        compose(kb, sd35, Conditioning.TEXT, 256, 30, [Applied("cache_dit", {"taylorseer": True, "bn_blocks": 0})])
    taylorseer = [Applied("cache_dit", {"taylorseer": True})]
    assert "Bn_compute_blocks=1," in compose(kb, sd35, Conditioning.TEXT, 256, 30, taylorseer)
    assert "Bn_compute_blocks=0," in compose(kb, flux, Conditioning.TEXT, 256, 30, taylorseer)
    assert kb.method("cache_dit").why_unsupported("sd35", "text-to-image") is None  # the method itself applies
