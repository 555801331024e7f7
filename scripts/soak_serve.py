#!/usr/bin/env python3
"""Soak test for `./mambavision serve` (not run in CI): minutes of mixed traffic, errors and heap over time.

Starts the server (on a free port), sends valid and invalid requests from several client threads (OIP infer with
JSON and with binary tensors, classify with a BMP image, malformed JSON, wrong shapes, undecodable images, an
unknown model), checks every answer's status, and every 30 s reads /metrics: heap in use, heap after GC, queue
depth. At the end it stops the server with SIGTERM and fails (exit 1) on any unexpected status or when the heap
after GC grew by more than half from the first third of the run to the last.

Python standard library only. Usage:
  scripts/soak_serve.py [--minutes 10] [--clients 8] [--weights FILE [--model NAME]]
Without --weights it trains a one-epoch flat_tiny run on synthetic 32 px images and serves that checkpoint.
"""
import argparse, json, os, random, re, signal, struct, subprocess, sys, tempfile, threading, time, urllib.error, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCHER = os.path.join(ROOT, "mambavision")


def request(url, body=None, headers=None, timeout=120):
    req = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def bmp(w, h, rng):
    """An uncompressed 24-bit BMP of random pixels."""
    row = (3 * w + 3) & ~3
    pixels = b"".join(bytes(rng.getrandbits(8) for _ in range(3 * w)) + b"\0" * (row - 3 * w) for _ in range(h))
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


def infer_json(shape, rng):
    n = shape[0] * shape[1] * shape[2] * shape[3]
    return json.dumps({"inputs": [{"name": "input", "shape": shape, "datatype": "FP32",
                                   "data": [round(rng.uniform(-2, 2), 4) for _ in range(n)]}]}).encode()


def infer_binary(shape, rng):
    n = shape[0] * shape[1] * shape[2] * shape[3]
    header = json.dumps({"inputs": [{"name": "input", "shape": shape, "datatype": "FP32",
                                     "parameters": {"binary_data_size": 4 * n}}],
                         "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]}).encode()
    return header + struct.pack("<%df" % n, *(rng.uniform(-2, 2) for _ in range(n))), len(header)


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.ok = 0
        self.unexpected = []

    def check(self, what, status, want, body):
        with self.lock:
            if status == want:
                self.ok += 1
            else:
                self.unexpected.append("%s: HTTP %d (wanted %d) %s" % (what, status, want, body[:200]))


def client(base, model, c, h, w, stop, counts, seed):
    rng = random.Random(seed)
    infer = "%s/v2/models/%s/infer" % (base, model)
    image = bmp(2 * w, 2 * h, rng)
    while not stop.is_set():
        kind = rng.randrange(10)
        try:
            if kind < 3:
                s, b = request(infer, infer_json([1, c, h, w], rng))
                counts.check("infer json", s, 200, b)
            elif kind < 5:
                body, n = infer_binary([rng.randint(1, 4), c, h, w], rng)
                s, b = request(infer, body, {"Inference-Header-Content-Length": str(n)})
                counts.check("infer binary", s, 200, b)
            elif kind < 7:
                s, b = request("%s/v2/models/%s/classify?top=3" % (base, model), image, {"Content-Type": "image/bmp"})
                counts.check("classify", s, 200, b)
            elif kind == 7:
                s, b = request(infer, infer_json([1, c, h, w], rng)[:-7])
                counts.check("malformed json", s, 400, b)
            elif kind == 8:
                s, b = request(infer, infer_json([1, c, h + 1, w], rng))
                counts.check("wrong shape", s, 400, b)
            else:
                s, b = request("%s/v2/models/%s/classify" % (base, model), b"GIF89a not really")
                counts.check("bad image", s, 400, b)
                s, b = request("%s/v2/models/no_such_model/infer" % base, b"{}")
                counts.check("unknown model", s, 404, b)
        except Exception as e:  # connection errors count as unexpected
            counts.check("request", -1, 0, str(e).encode())


def metric(text, name):
    m = re.search(r"^%s(?:\{[^}]*\})? (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--weights")
    ap.add_argument("--model")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="soak-")
    weights = args.weights
    if weights is None:
        print("training a one-epoch flat_tiny run to serve...", flush=True)
        subprocess.run([LAUNCHER, "train", "--set", "epochs=1", "--set", "dataset_size=32", "--set", "img_size=32",
                        "--set", "batch_size=16", "--set", "save_dir=" + tmp], check=True, stdout=subprocess.DEVNULL)
        run = [d for d in os.listdir(tmp) if os.path.isdir(os.path.join(tmp, d))][0]
        weights = os.path.join(tmp, run, "best.safetensors")
    cmd = [LAUNCHER, "serve", "--weights", weights, "--port", "0"] + (["--model", args.model] if args.model else [])
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = None
    for line in server.stdout:
        print("server: " + line.rstrip(), flush=True)
        m = re.search(r" at (http://\S+) ", line)
        if m:
            base = m.group(1)
            break
    if base is None:
        sys.exit("error: the server did not start")
    threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()  # keep draining its output
    model = json.loads(request(base + "/v2/repository/index", b"")[1])[0]["name"]
    shape = json.loads(request("%s/v2/models/%s" % (base, model))[1])["inputs"][0]["shape"]
    _, c, h, w = shape
    counts, stop = Counts(), threading.Event()
    threads = [threading.Thread(target=client, args=(base, model, c, h, w, stop, counts, i)) for i in range(args.clients)]
    for t in threads:
        t.start()
    start, rows = time.time(), []
    print("%7s %9s %10s %14s %14s %6s" % ("seconds", "answered", "unexpected", "heap_used_MB", "heap_afterGC_MB", "queue"), flush=True)
    while time.time() - start < args.minutes * 60:
        time.sleep(min(30, max(1, args.minutes * 60 - (time.time() - start))))
        text = request(base + "/metrics")[1].decode()
        row = (time.time() - start, counts.ok, len(counts.unexpected), metric(text, "mv_jvm_heap_used_bytes") / 2**20,
               metric(text, "mv_jvm_heap_after_gc_bytes") / 2**20, metric(text, "mv_queue_depth"))
        rows.append(row)
        print("%7.0f %9d %10d %14.1f %14.1f %6.0f" % row, flush=True)
    stop.set()
    for t in threads:
        t.join()
    server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=120)
    third = max(1, len(rows) // 3)
    early = max(r[4] for r in rows[:third])
    late = max(r[4] for r in rows[-third:])
    print("answered as expected: %d; unexpected: %d; heap after GC, first third max %.1f MB, last third max %.1f MB; "
          "server exit code %d" % (counts.ok, len(counts.unexpected), early, late, code))
    for u in counts.unexpected[:10]:
        print("unexpected: " + u)
    failed = bool(counts.unexpected) or late > 1.5 * early + 16
    print("FAIL" if failed else "PASS")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
