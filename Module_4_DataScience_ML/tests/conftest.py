"""Shared real-data fixtures (loaded once per session; all ship offline)."""

from __future__ import annotations

import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.preprocessing import StandardScaler

from Module_4_DataScience_ML.datasets import load_credit
from Module_4_DataScience_ML.from_scratch_implementations.model_selection import (
    train_test_split,
)


def _scaled_split(X, y, seed=0):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=seed, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.fixture(scope="session")
def diabetes():
    return load_diabetes(return_X_y=True)


@pytest.fixture(scope="session")
def cancer_split():
    """Breast cancer, stratified 70/30 split, standardised with the training statistics."""
    return _scaled_split(*load_breast_cancer(return_X_y=True))


@pytest.fixture(scope="session")
def wine_split():
    return _scaled_split(*load_wine(return_X_y=True))


@pytest.fixture(scope="session")
def credit():
    """modeldata credit_data, one-hot encoded, y = 1 for a bad loan."""
    return load_credit()


@pytest.fixture(scope="session")
def credit_split(credit):
    X, y = credit
    return _scaled_split(X.to_numpy(), y.to_numpy())
