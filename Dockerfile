# The component image: every pipeline task runs in it. The compiled YAML imports each
# component from the package installed here (gemini_sft_kfp.runtime.task), so the image and
# the YAML must come from one release (compile against this image: see compiled/README.md).
#
#   gemini-sft image build [--tag IMAGE]     (= docker build -t IMAGE .)
#   gemini-sft compile --image IMAGE
#
# Lean on purpose: the runtime dependencies only (no emulator, no test tools), and
# bytecode only for the modules a task imports, as a task imports them (_KFP_RUNTIME:
# kfp without its DSL). `python bench/image.py` measures size and import time.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/gemini-sft

# Dependencies first, under the lock (constraints.txt, the tested dependency set): this
# layer is rebuilt only when pyproject.toml or the lock changes. --no-compile: bytecode
# for every installed module would add ~165 MB; only what tasks import is compiled below.
COPY constraints.txt pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && pip install -c constraints.txt -r requirements.txt --no-compile

# Then the package itself, without re-resolving dependencies, and without the emulator
# (the `emulator` extra: a local stand-in for Vertex AI, never needed by a task).
COPY README.md ./
COPY gemini_sft_kfp ./gemini_sft_kfp
COPY components ./components
COPY pipelines ./pipelines
COPY emulator ./emulator
RUN pip install --no-deps . --no-compile \
    && rm -rf "$(python -c 'import gemini_sft_kfp, os; print(os.path.dirname(gemini_sft_kfp.__file__))')/emulator" \
    && rm -rf /opt/gemini-sft/* \
    && ! python -c "import gemini_sft_kfp.emulator" 2>/dev/null \
    && _KFP_RUNTIME=true python -m gemini_sft_kfp.runtime.task --warm

# Tasks never write bytecode (the non-root user cannot, and need not: it is built above).
ENV PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/sft

# Never run as root: a task needs only a writable temp dir and HOME. KFP's DockerRunner
# (gemini-sft run --runner docker) runs it as the invoking user instead, HOME=/tmp.
# (Should a platform's artifact mounts demand root, build with --build-arg USER_ID=0.)
ARG USER_ID=10001
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin sft
USER ${USER_ID}
WORKDIR /home/sft

CMD ["gemini-sft", "--help"]
