"""Numbers the book quotes from elsewhere, each next to its source.

The book computes every table and figure itself; the numbers below are the exceptions: values of
the paper (Liu et al., CVPR 2017, arXiv:1704.08063v4), of its official Caffe code
(wy1iu/sphereface) and of the TensorFlow reimplementation YunYang1994/SphereFace ("the
reference"), shown beside the book's own results and always labelled as theirs.
``tests/book/test_sources.py`` checks that each label agrees with the numbers it states.
"""

from __future__ import annotations

# -- The reference: YunYang1994/SphereFace -------------------------------------------------------
# Test accuracy with 2-D features in its README. The numbers were committed on 2018-08-05, when
# its model was a plain six-convolution CNN with batch normalisation (SphereFace-20 replaced it
# two days later; the README numbers were not updated). Its test loop of that commit ran the
# training op on 20 test batches of 512 images drawn from the 10,000-image test set.
REFERENCE_2D_ACCURACY = {"original": 0.9775, "modified": 0.9847, "angular": 0.9896}
REFERENCE_README_DATE = "2018-08-05"
REFERENCE_TEST_BATCHES = 20
REFERENCE_TEST_BATCH_SIZE = 512
REFERENCE_SOURCE = (
    "YunYang1994/SphereFace README, committed 2018-08-05 (TensorFlow, a six-convolution CNN; "
    "one run per head; accuracy over 20 test batches of 512, i.e. 10,240 images drawn from "
    "the 10,000-image test set)"
)

# -- The paper ---------------------------------------------------------------------------------
# Table 4 (and Table 3, m = 4): A-Softmax with m = 4, the 64-layer network, trained on
# CASIA-WebFace, LFW under the 10-fold View 2 protocol.
PAPER_LFW_ACCURACY = 0.9942
PAPER_LFW_SOURCE = (
    "Liu et al. 2017, Table 4: A-Softmax (m=4), 64-layer CNN trained on CASIA-WebFace, "
    "LFW 10 folds, 99.42 %"
)
# Section 4.1 (and Yi et al. 2014): 494,414 images of 10,575 people.
CASIA_WEBFACE_IMAGES = 494_414
CASIA_WEBFACE_PEOPLE = 10_575
# The official code (wy1iu/sphereface) trains on 10,572 identities: its training list drops
# the CASIA-WebFace identities that also appear in LFW.
CASIA_WEBFACE_OFFICIAL_CLASSES = 10_572
CASIA_WEBFACE_SOURCE = (
    "Liu et al. 2017, Section 4.1: 494,414 images of 10,575 people; the official model "
    "classifies 10,572 of them (wy1iu/sphereface, after dropping the identities also in LFW)"
)

# Table 3 of the paper: LFW and YTF accuracy (%) of the original softmax and of A-Softmax with
# m = 1 (the modified softmax) to 4, the 64-layer CNN trained on CASIA-WebFace.
PAPER_TABLE3_LFW = {"original": 97.88, 1: 97.90, 2: 98.40, 3: 99.25, 4: 99.42}
PAPER_TABLE3_YTF = {"original": 93.1, 1: 93.2, 2: 93.8, 3: 94.4, 4: 95.0}
PAPER_TABLE3_SOURCE = (
    "Liu et al. 2017, Table 3: LFW accuracy of the original softmax 97.88 % and of A-Softmax with "
    "m = 1, 2, 3, 4: 97.90, 98.40, 99.25, 99.42 % (64-layer CNN, CASIA-WebFace)"
)
