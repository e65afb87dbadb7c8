"""``alnb select``: which images of a folder to label first, ranked by the study's pool strategies.

:mod:`~alnb.select.folder` lists, hashes, deduplicates and decodes the folder; :mod:`~alnb.select.encoders`
resolves ``--encoder`` (SimCLR trained on the folder by :mod:`~alnb.select.embeddings`, or a pretrained timm,
open_clip or torchvision model) and :mod:`~alnb.select.embeddings` reads the user's vectors;
:mod:`~alnb.select.near_duplicates` ranks near-identical images once; :mod:`~alnb.select.ranking` turns a pool
strategy into a ranking (MaxHerding's candidates from :mod:`~alnb.select.candidates`);
:mod:`~alnb.select.objectives` scores every prefix; :mod:`~alnb.select.forecast` says whether selection is
expected to help; :mod:`~alnb.select.outputs` writes the files; :mod:`~alnb.select.pipeline` ties them together
for the command, and :mod:`~alnb.select.selection` saves what ``notebooks/07_select.ipynb`` reads;
:mod:`~alnb.select.simulate` runs a small study on a folder with class subfolders.
"""

from alnb.select.folder import SelectError
from alnb.select.pipeline import check_request, run_selection
from alnb.select.selection import Selection, SelectRequest, load_selection

__all__ = ["SelectError", "SelectRequest", "Selection", "check_request", "load_selection", "run_selection"]
