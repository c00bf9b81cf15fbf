"""costlab: FLOPs-and-parameters cost analysis of CNN layer graphs, exact and explained.

    >>> from costlab import analyze, load_source
    >>> analyze(load_source("naive")).total().macs
    112896000
"""

from .analysis import Analysis, Row, Totals, analyze
from .errors import CostlabError, SpecError
from .graph import Graph
from .sources import load_source

__all__ = ["analyze", "load_source", "Analysis", "Row", "Totals", "Graph", "CostlabError", "SpecError"]
__version__ = "0.1.0"
