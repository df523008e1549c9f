"""The named face training sets: the six-identity LFW set for 3-D plots."""

from sphereface_lib.data.training_sets import (
    lfw_top_identities,
    lfw_training_identities,
    load_training_data,
)


def test_lfw_top6_holds_the_six_largest_training_identities(faces_root):
    everyone = lfw_training_identities(faces_root)
    sizes = {name: 0 for name in everyone.identities}
    for _, label in everyone.samples:
        sizes[everyone.identities[label]] += 1
    largest = sorted(sizes, key=lambda name: (-sizes[name], name))[:6]
    top = lfw_top_identities(faces_root, 6)
    assert top.identities == sorted(largest)
    data = load_training_data("lfw_top6", faces_root, test_limit=None)
    assert data.num_classes == 6
    assert len(data.train_labels) + len(data.test_labels) == sum(sizes[n] for n in largest)
    # The last tenth of each person is held out, so every person is in both splits.
    assert set(data.test_labels.tolist()) == set(range(6)) == set(data.train_labels.tolist())
