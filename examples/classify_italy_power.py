"""ItalyPowerDemand: classify daily demand curves (winter vs summer) with sklearn metrics."""

from _common import epochs
from sklearn.metrics import classification_report, roc_auc_score

from tsrnn import SequenceClassifier
from tsrnn.datasets import load_italy_power_demand

X, y = load_italy_power_demand("train")
X_test, y_test = load_italy_power_demand("test")
clf = SequenceClassifier(max_epochs=epochs(200), random_state=0).fit(X, y)
print(classification_report(y_test, clf.predict(X_test), digits=3))
print(f"ROC AUC: {roc_auc_score(y_test, clf.predict_proba(X_test)[:, 1]):.3f}")
print(f"epochs run: {clf.n_epochs_}, final training loss: {clf.loss_curve_[-1]:.4f}")
