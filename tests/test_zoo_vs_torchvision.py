"""Built-in specs written in torchvision's layout equal the real models, layer by layer (names align).

Outside numbers: torchvision weights metadata: alexnet 0.714 GFLOPS (GMACs) and 61,100,840 params,
vgg16 15.47 and 138,357,544, resnet50 4.089 and 25,557,032.
"""

import pytest

pytest.importorskip("torchvision")

from costlab import analyze, load_source  # noqa: E402

META = {"alexnet": (0.714, 61_100_840), "vgg16": (15.47, 138_357_544), "resnet50": (4.089, 25_557_032)}


@pytest.mark.parametrize("name", sorted(META))
def test_spec_equals_torchvision_layer_by_layer(name):
    spec = analyze(load_source(name))
    real = analyze(load_source(f"torchvision:{name}"))
    gmacs, params = META[name]
    assert spec.total().params == real.total().params == params
    assert spec.total().macs == real.total().macs and round(spec.total().macs / 1e9, 3) == gmacs
    costly = lambda a: {r.name: (r.macs, r.params) for r in a.rows if r.macs or r.params}  # noqa: E731
    assert costly(spec) == costly(real)  # same names, same MACs and params for every conv, norm and linear
