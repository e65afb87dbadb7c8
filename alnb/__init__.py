"""alnb: does an intelligently chosen initial labeled pool beat a random one in deep active learning?"""

__version__ = "0.1.0"
