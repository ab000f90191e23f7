"""Build small Llama-architecture models locally: a BPE tokenizer trained on given texts and
randomly initialised weights, saved in the Hugging Face layout that vLLM and TRL load.

Tests use them because no model hub is reachable; the demo policy starts from one and is then
trained on the demo corpus (see ``prefgen.demo.training``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

# A minimal chat template, so that chat prompts work with models built here.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '</s>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<pad>"]


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024, *, copy_friendly: bool = False):
    """A byte-level BPE tokenizer trained on ``texts``, wrapped for ``transformers``.

    ``copy_friendly`` splits spaces, punctuation and every digit into tokens of their own, so a
    value is the same tokens wherever it appears: ``184`` in "the square root of 184" and in
    ``x=184`` (GPT-2-style splitting makes them ``Ġ18 4`` and ``18 4``, and a tiny model must then
    learn a token-to-token map for every value instead of copying).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = _copy_friendly_pre_tokenizer() if copy_friendly else pre_tokenizers.ByteLevel(
        add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    core.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _copy_friendly_pre_tokenizer():
    from tokenizers import pre_tokenizers

    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(" ", behavior="isolated"),
        pre_tokenizers.Punctuation(behavior="isolated"),
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])


def build_tiny_llama(
    out_dir: str | Path,
    texts: Iterable[str],
    *,
    vocab_size: int = 1024,
    hidden_size: int = 128,
    num_layers: int = 2,
    num_heads: int = 2,
    intermediate_size: int = 256,
    max_position_embeddings: int = 512,
    seed: int = 0,
    copy_friendly_tokenizer: bool = False,
) -> Path:
    """Save a randomly initialised Llama and its tokenizer to ``out_dir`` and return the path.

    ``hidden_size / num_heads`` is the head size; vLLM's CPU attention needs a supported one
    (64 works, 16 does not), so the default keeps it at 64.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(texts, vocab_size=vocab_size, copy_friendly=copy_friendly_tokenizer)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_heads,
        max_position_embeddings=max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
        torch_dtype="float32",
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
