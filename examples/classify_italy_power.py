"""
ItalyPowerDemand: classifying daily demand curves
=================================================

ItalyPowerDemand: classify daily demand curves (winter vs summer) with sklearn metrics.
"""

from _common import epochs, report
from sklearn.metrics import accuracy_score, classification_report, roc_auc_score

from tsrnn import SequenceClassifier
from tsrnn.datasets import load_italy_power_demand

X, y = load_italy_power_demand("train")
X_test, y_test = load_italy_power_demand("test")
clf = SequenceClassifier(max_epochs=epochs(200), random_state=0).fit(X, y)
print(classification_report(y_test, clf.predict(X_test), digits=3))
auc = roc_auc_score(y_test, clf.predict_proba(X_test)[:, 1])
accuracy = accuracy_score(y_test, clf.predict(X_test))
print(f"ROC AUC: {auc:.3f}")
print(f"epochs run: {clf.n_epochs_}, final training loss: {clf.loss_curve_[-1]:.4f}")
report(
    f"ItalyPowerDemand ({len(y_test)} test cases)",
    "`SequenceClassifier()` (defaults)",
    f"accuracy {accuracy:.3f}, ROC AUC {auc:.3f}",
)
