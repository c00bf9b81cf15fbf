"""The torch bridge: the only code that imports torch, torchvision and fvcore (install costlab[torch]).

- ``reference``: 'torchvision:googlenet?aux_logits=false' or 'pkg.mod:factory' -> a model on the meta device
- ``capture``: an nn.Module -> a costlab Graph, run on the meta device, the model left untouched
- ``build``: a costlab Graph -> an nn.Module whose module names are the graph's layer names
- ``verify``: costlab's rows next to fvcore's per-module counts
"""
