"""llama-cpp-python's OpenAI-compatible server with alignlab's safe llama.cpp load defaults.

``python -m alignlab.models.llama_server --model FILE.gguf ...`` takes llama_cpp.server's own flags; on builds whose
AMX kernels fault (see ``alignlab.models.llamacpp.extra_buffer_types_safe``) it loads the model without them.
"""

import runpy

from alignlab.models.llamacpp import safe_load_defaults

if __name__ == "__main__":
    # The server builds its Llama inside run_module, so the defaults hold for its whole life in this process.
    with safe_load_defaults():
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
