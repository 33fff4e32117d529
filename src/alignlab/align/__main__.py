"""``python -m alignlab.align dpo --config recipe.yaml``: the entry point ``accelerate launch -m`` runs per process."""

from alignlab.cli.align import align_app

if __name__ == "__main__":
    align_app(prog_name="python -m alignlab.align")
