"""What the window's "Explore this result" views compute, headless (no Qt), usable from the command line.

- targets.py: the smallest adversarial towards every other class, in one batched attack.
- transfer.py: every model's answer on the original and on the adversarial (forward passes only).
- trajectory.py: ||r|| and the target's margin along the recorded iterates of an attack.
- baselines.py: FGSM and DDN, short implementations checked against foolbox in the tests.
- noise.py: random changes of a given L2 inside the box (the paper's control), and the model's answers.
"""
