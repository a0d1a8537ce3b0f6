"""``python -m skpar`` runs the demo."""

from skpar.demo import main

main()
