"""Model fingerprints key cached samples: two different models must never share one."""

from prefgen.generation.model_ref import fingerprint_model


def model_dir(root, name, weights):
    directory = root / name
    directory.mkdir(parents=True)
    (directory / "config.json").write_text('{"model_type": "llama"}')
    (directory / "model.safetensors").write_bytes(weights)
    return directory


def test_models_under_a_cache_directory_get_their_own_fingerprints(tmp_path):
    cache = tmp_path / ".cache" / "huggingface" / "hub"
    first = fingerprint_model(model_dir(cache, "a", b"weights one"))
    second = fingerprint_model(model_dir(cache, "b", b"weights two"))
    assert first != second
    assert first == fingerprint_model(model_dir(tmp_path / "elsewhere", "a", b"weights one"))


def test_a_cache_directory_inside_the_model_is_not_part_of_it(tmp_path):
    directory = model_dir(tmp_path, "m", b"weights")
    before = fingerprint_model(directory)
    (directory / ".cache").mkdir()
    (directory / ".cache" / "download.lock").write_text("bookkeeping")
    assert fingerprint_model(directory) == before
