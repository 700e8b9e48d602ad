"""Module 4's from-scratch models and metrics: the public API.

    from Module_4_DataScience_ML.from_scratch_implementations import (
        LogisticRegression, DecisionTreeClassifier, roc_auc_score,
    )

Each estimator follows scikit-learn's API (``fit``, ``predict``, ``predict_proba``,
``get_params``), so it drops into scikit-learn's tools and into the capstone's pipeline.
"""

from Module_4_DataScience_ML.from_scratch_implementations.decision_trees import (
    DecisionTreeClassifier,
)
from Module_4_DataScience_ML.from_scratch_implementations.k_nearest_neighbors import (
    KNeighborsClassifier,
    KNeighborsRegressor,
)
from Module_4_DataScience_ML.from_scratch_implementations.linear_regression import (
    LinearRegression,
)
from Module_4_DataScience_ML.from_scratch_implementations.logistic_regression import (
    LogisticRegression,
)
from Module_4_DataScience_ML.from_scratch_implementations.metrics import (
    accuracy_score,
    auc,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    roc_curve,
    root_mean_squared_error,
)
from Module_4_DataScience_ML.from_scratch_implementations.model_selection import (
    KFold,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)

__all__ = [
    "DecisionTreeClassifier",
    "KFold",
    "KNeighborsClassifier",
    "KNeighborsRegressor",
    "LinearRegression",
    "LogisticRegression",
    "StratifiedKFold",
    "accuracy_score",
    "auc",
    "brier_score_loss",
    "confusion_matrix",
    "cross_val_score",
    "f1_score",
    "log_loss",
    "mean_absolute_error",
    "mean_squared_error",
    "precision_score",
    "r2_score",
    "recall_score",
    "roc_auc_score",
    "roc_curve",
    "root_mean_squared_error",
    "train_test_split",
]
