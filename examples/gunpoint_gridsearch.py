"""
GunPoint: tuning a classifier with GridSearchCV
===============================================

GunPoint: tune a conv + recurrent classifier with GridSearchCV, report sklearn metrics
and draw the ROC curve.
"""

from _common import FAST, epochs, report
from sklearn.metrics import (
    RocCurveDisplay,
    accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from tsrnn import SequenceClassifier
from tsrnn.datasets import load_gunpoint
from tsrnn.preprocessing import TimeSeriesScaler

X, y = load_gunpoint("train")
X_test, y_test = load_gunpoint("test")
pipe = make_pipeline(
    TimeSeriesScaler(),
    SequenceClassifier(
        architecture="recurrent",
        lr_schedule="constant",
        conv_filters=16,
        pool_size=5,
        max_epochs=epochs(200),
        random_state=0,
    ),
)
grid = {
    "sequenceclassifier__cell": ["lstm", "gru"],
    "sequenceclassifier__hidden_size": [16] if FAST else [16, 32],
    "sequenceclassifier__learning_rate": [3e-3] if FAST else [3e-3, 1e-2],
}
search = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X, y)
pred = search.predict(X_test)
proba = search.predict_proba(X_test)[:, 1]
print("best parameters:", search.best_params_)
for name, metric in (
    ("accuracy", accuracy_score),
    ("precision", precision_score),
    ("recall", recall_score),
    ("F1", f1_score),
):
    kwargs = {} if name == "accuracy" else {"pos_label": "2"}
    print(f"{name:<10}{metric(y_test, pred, **kwargs):.3f}")
auc = roc_auc_score(y_test == "2", proba)
print(f"{'ROC AUC':<10}{auc:.3f}")
report(
    f"GunPoint ({len(y_test)} test cases)",
    "GridSearchCV over cell, hidden_size, learning_rate",
    f"accuracy {accuracy_score(y_test, pred):.3f}, ROC AUC {auc:.3f}",
)
try:
    import matplotlib

    matplotlib.use("Agg")
    display = RocCurveDisplay.from_predictions(y_test == "2", proba, name="tsrnn")
    display.figure_.savefig("gunpoint_roc.png", dpi=90)
    print("wrote gunpoint_roc.png")
except ImportError:
    pass
