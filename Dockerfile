# The component image: every pipeline step runs in it (components use it as base_image
# with install_kfp_package=False, so nothing is pip-installed at run time).
#
#   docker build -t IMAGE .          (or: gcloud builds submit --config cloudbuild.yaml)
#   gemini-sft compile --image IMAGE
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/gemini-sft

# Dependencies first, pinned (constraints.txt = pip freeze of the tested environment):
# this layer is rebuilt only when the pins change.
COPY constraints.txt ./
RUN pip install -r constraints.txt

# Then the package itself, without re-resolving dependencies.
COPY pyproject.toml README.md ./
COPY components ./components
COPY pipelines ./pipelines
COPY emulator ./emulator
RUN pip install --no-deps . \
    && python -c "import components, kfp; [components.load(n) for n in components.COMPONENT_NAMES]"

# Never run as root: the component code needs only a writable temp dir and HOME.
# (Should a runner's artifact mounts demand root, build with --build-arg USER_ID=0.)
ARG USER_ID=10001
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin sft
USER ${USER_ID}
WORKDIR /home/sft

CMD ["gemini-sft", "--help"]
