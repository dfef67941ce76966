# heprag image: installs exactly as the Makefile does (`make install`), then serves the chat.
#   CPU (default):  docker build -t heprag .
#   CUDA + faiss-gpu: docker build --target cuda -t heprag:cuda .
# Run:  docker run -p 8501:8501 -v $PWD/papers:/data/papers -v heprag-index:/data/index heprag \
#         sh -c "heprag ingest /data/papers && heprag chat --headless --port 8501"
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS cpu
ARG EXTRAS=app,agent,llm
# CPU wheels of torch (the pin in constraints.txt); the CUDA stage below swaps in GPU wheels.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 \
    PIP_EXTRA_INDEX_URL=${TORCH_INDEX} \
    HF_HUB_OFFLINE=1 \
    HEPRAG_INDEX_DIR=/data/index \
    HEPRAG_EMBEDDING__CACHE_DIR=/data/cache
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/heprag
COPY pyproject.toml constraints.txt Makefile README.md ./
COPY index ./index
COPY ingest ./ingest
COPY app ./app
COPY evals ./evals
RUN make install VENV=/opt/venv EXTRAS=${EXTRAS}
ENV PATH=/opt/venv/bin:${PATH}
VOLUME ["/data"]
EXPOSE 8501 8765
CMD ["heprag", "chat", "--headless", "--port", "8501"]

FROM cpu AS cuda
# GPU embedding (fp16) and faiss-gpu; torch from the default index is a CUDA build.
ENV PIP_EXTRA_INDEX_URL=
# faiss-cpu and faiss-gpu ship the same `faiss` module: remove one before adding the other.
RUN /opt/venv/bin/pip install --force-reinstall --no-deps "torch==2.13.0" \
    && /opt/venv/bin/pip uninstall -y faiss-cpu \
    && /opt/venv/bin/pip install "faiss-gpu-cu12>=1.8"
