"""Tiny tokenizers built in code: a byte-level CLIP BPE and a unigram T5, enough for real pipelines to run."""

from __future__ import annotations

from transformers import CLIPTokenizer, T5Tokenizer

# A dozen common English merges so that frequent words take fewer tokens; the rest falls back to bytes.
_CLIP_MERGES = ["t h", "th e</w>", "a n", "an d</w>", "o n", "i n", "e r", "r e", "a t", "o r", "e s", "e n"]

_T5_WORDS = [
    "a",
    "an",
    "the",
    "of",
    "on",
    "in",
    "with",
    "and",
    "at",
    "by",
    "photo",
    "picture",
    "painting",
    "image",
    "close",
    "up",
    "view",
    "portrait",
    "cat",
    "dog",
    "horse",
    "bird",
    "car",
    "street",
    "city",
    "mountain",
    "lake",
    "river",
    "sky",
    "sunset",
    "beach",
    "forest",
    "table",
    "plate",
    "food",
    "man",
    "woman",
    "child",
    "people",
    "red",
    "blue",
    "green",
    "yellow",
    "white",
    "black",
    "small",
    "large",
    "old",
    "young",
    "two",
    "three",
    "sitting",
    "standing",
    "walking",
    "near",
]


def byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte-to-printable-character map, which CLIP's byte-level BPE uses."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, chars), strict=True))


def tiny_clip_tokenizer(model_max_length: int = 77, pad_token: str = "<|endoftext|>") -> CLIPTokenizer:
    symbols = list(byte_to_unicode().values())
    vocab: dict[str, int] = {}
    for s in symbols + [s + "</w>" for s in symbols]:
        vocab[s] = len(vocab)
    for merge in _CLIP_MERGES:
        left, right = merge.split()
        vocab.setdefault(left + right, len(vocab))
    for special in ("<|startoftext|>", "<|endoftext|>"):
        vocab[special] = len(vocab)
    merges = [tuple(m.split()) for m in _CLIP_MERGES]
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=model_max_length, pad_token=pad_token)


def tiny_t5_tokenizer(model_max_length: int = 512) -> T5Tokenizer:
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    pieces += [("▁" + w, -1.0) for w in _T5_WORDS]
    pieces += [(c, -5.0) for c in "abcdefghijklmnopqrstuvwxyz0123456789,.'-"]
    return T5Tokenizer(vocab=pieces, extra_ids=0, model_max_length=model_max_length)
