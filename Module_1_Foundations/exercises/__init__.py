"""Module 1's exercises: one runnable script per task of the learning path."""
