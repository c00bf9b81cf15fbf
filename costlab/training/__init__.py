"""Training cost: backward MACs per layer, memory over the forward/backward schedule, and "will it fit".

Pure functions of an Analysis and its Graph's dataflow (no torch): ``grad`` decides which tensors
need a gradient, ``backward`` holds one rule per op family, ``optimizer`` the update cost and state
per parameter (from torch.optim's code), ``memory`` what autograd saves per op, ``schedule`` the
peaks, ``fit`` the largest batch or resolution, and ``step`` puts them together per row.
"""
