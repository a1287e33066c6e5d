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

# Dependencies first, under the lock (constraints.txt, the tested dependency set): this
# layer is rebuilt only when pyproject.toml or the lock changes.
COPY constraints.txt pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && pip install -c constraints.txt -r requirements.txt

# Then the package itself, without re-resolving dependencies.
COPY README.md ./
COPY gemini_sft_kfp ./gemini_sft_kfp
COPY components ./components
COPY pipelines ./pipelines
COPY emulator ./emulator
RUN pip install --no-deps . \
    && python -c "import gemini_sft_kfp.components"

# Never run as root: the component code needs only a writable temp dir and HOME.
# (Should a runner's artifact mounts demand root, build with --build-arg USER_ID=0.)
ARG USER_ID=10001
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin sft
USER ${USER_ID}
WORKDIR /home/sft

CMD ["gemini-sft", "--help"]
