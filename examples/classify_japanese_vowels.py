"""
JapaneseVowels: variable-length, multichannel sequences
=======================================================

JapaneseVowels: nine speakers from variable-length, 12-channel sequences.

The sequences are a list of arrays of different lengths; tsrnn pads and masks them,
so a sequence's prediction does not depend on its batch-mates' lengths.
"""

from _common import epochs, report
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline

from tsrnn import SequenceClassifier
from tsrnn.datasets import load_japanese_vowels
from tsrnn.preprocessing import TimeSeriesScaler

X, y = load_japanese_vowels("train")  # a list of (n_steps_i, 12) arrays
X_test, y_test = load_japanese_vowels("test")
lengths = sorted(len(x) for x in X)
print(f"{len(X)} training sequences of {lengths[0]} to {lengths[-1]} steps, 12 channels")
clf = make_pipeline(
    TimeSeriesScaler(),
    SequenceClassifier(max_epochs=epochs(200), random_state=0),
)
clf.fit(X, y)
accuracy = accuracy_score(y_test, clf.predict(X_test))
print(f"test accuracy: {accuracy:.3f}")
report(
    f"JapaneseVowels ({len(y_test)} test cases, variable length, 9 classes)",
    "`TimeSeriesScaler()` + `SequenceClassifier()` (defaults)",
    f"accuracy {accuracy:.3f}",
)
