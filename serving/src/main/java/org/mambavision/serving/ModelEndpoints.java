package org.mambavision.serving;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.Softmax;
import org.mambavision.inference.Predictor;
import org.mambavision.inference.image.Images;

/** The per-model endpoints: OIP metadata and infer, and image classification. */
final class ModelEndpoints {
    static final String BINARY_HEADER = "Inference-Header-Content-Length";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final long maxBodyBytes;

    ModelEndpoints(long maxBodyBytes) {
        this.maxBodyBytes = maxBodyBytes;
    }

    /** OIP model metadata: name, versions, platform, and the input and output tensors with their shapes. */
    void metadata(Context ctx, ServedModel m) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", m.name());
        body.put("versions", List.of("1"));
        body.put("platform", "mambavision_java");
        body.put("inputs", List.of(spec(m.input())));
        body.put("outputs", m.outputs().stream().map(ModelEndpoints::spec).toList());
        json(ctx, 200, body);
    }

    private static Map<String, Object> spec(ServedModel.TensorSpec s) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("name", s.name());
        t.put("datatype", "FP32");
        t.put("shape", s.batchShape());
        return t;
    }

    void infer(Context ctx, ServedModel m, long deadlineNanos) throws IOException {
        InferRequest req = InferRequest.parse(body(ctx), ctx.header(BINARY_HEADER));
        InferRequest.Input in = checkInput(req.inputs(), m);
        List<ServedModel.TensorSpec> outs = m.outputs();
        List<InferRequest.Output> wanted = req.outputs() != null && !req.outputs().isEmpty() ? req.outputs()
                : List.of(new InferRequest.Output(ServedModel.LOGITS, null));
        int[] index = new int[wanted.size()];
        boolean features = false;
        for (int i = 0; i < wanted.size(); i++) {
            String name = wanted.get(i).name();
            index[i] = -1;
            for (int k = 0; k < outs.size(); k++) if (outs.get(k).name().equals(name)) index[i] = k;
            if (index[i] < 0) {
                throw ApiException.badRequest("outputs[" + i + "].name: unknown output '" + clip(name) + "'; " + m.name() + " has "
                        + String.join(", ", outs.stream().map(ServedModel.TensorSpec::name).toList()));
            }
            for (int j = 0; j < i; j++) {
                if (index[j] == index[i]) throw ApiException.badRequest("outputs[" + i + "].name: '" + name + "' is requested twice");
            }
            features |= index[i] > 0;
        }
        List<Tensor> result = await(m.submit(Tensor.of(in.values(), in.shape()), features, deadlineNanos), deadlineNanos);
        List<InferResponse.Named> named = new ArrayList<>();
        for (int i = 0; i < wanted.size(); i++) {
            Boolean b = wanted.get(i).binary();
            named.add(new InferResponse.Named(wanted.get(i).name(), result.get(index[i]), b != null ? b : req.binaryOutputs()));
        }
        InferResponse r = InferResponse.encode(m.name(), req.id(), named);
        if (r.hasBinary()) {
            ctx.header(BINARY_HEADER, Integer.toString(r.jsonLength()));
            ctx.contentType("application/octet-stream");
        } else {
            ctx.contentType("application/json");
        }
        ctx.status(200).result(r.body());
    }

    private static InferRequest.Input checkInput(List<InferRequest.Input> inputs, ServedModel m) {
        if (inputs.size() != 1 || !inputs.getFirst().name().equals(ServedModel.INPUT)) {
            throw ApiException.badRequest("inputs: expected one tensor named '" + ServedModel.INPUT + "', got "
                    + inputs.stream().map(i -> "'" + clip(i.name()) + "'").toList());
        }
        InferRequest.Input in = inputs.getFirst();
        int[] want = m.input().shape();
        int[] s = in.shape();
        boolean ok = s.length == want.length + 1 && s[0] >= 1;
        for (int i = 0; ok && i < want.length; i++) ok = s[i + 1] == want[i];
        if (!ok) {
            throw ApiException.badRequest("inputs[0].shape: expected [N, " + want[0] + ", " + want[1] + ", " + want[2] + "] with N >= 1, got "
                    + Arrays.toString(s));
        }
        return in;
    }

    /** Top-k classification of one JPEG/PNG/BMP image, sent as the raw body or as a file of a multipart form. */
    void classify(Context ctx, ServedModel m, long deadlineNanos, long startNanos) throws IOException {
        Predictor p = m.predictor();
        int top = top(ctx.queryParam("top"), m.outputs().getFirst().shape()[0]);
        byte[] image = imageBytes(ctx);
        BufferedImage img;
        try {
            img = Images.decode(image, "image", p.maxImagePixels());
        } catch (IOException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        Tensor logits = await(m.submit(p.preprocess(img), false, deadlineNanos), deadlineNanos).getFirst();
        List<Predictor.Prediction> best = p.topK(Softmax.forward(logits).data, top);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Predictor.Prediction r : best) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("index", r.index());
            row.put("label", r.label());
            row.put("probability", r.probability());
            rows.add(row);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model_name", m.name());
        body.put("predictions", rows);
        body.put("latency_ms", (System.nanoTime() - startNanos) / 1e6);
        json(ctx, 200, body);
    }

    private static int top(String param, int classes) {
        if (param == null) return Math.min(5, classes);
        try {
            int k = Integer.parseInt(param.trim());
            if (k >= 1 && k <= classes) return k;
        } catch (NumberFormatException e) {
            // answered below
        }
        throw ApiException.badRequest("top: expected an integer 1.." + classes + ", got '" + clip(param) + "'");
    }

    private byte[] imageBytes(Context ctx) throws IOException {
        if (ctx.isMultipartFormData()) {
            List<UploadedFile> files;
            try {
                files = ctx.uploadedFiles();
            } catch (Exception e) { // Jetty's parser (rethrown unchecked): a malformed form, or a chunked one past the size limit
                Throwable root = e;
                while (root.getCause() != null && root.getCause() != root) root = root.getCause();
                throw ApiException.badRequest("body: cannot read the multipart form (" + (root.getMessage() != null ? root.getMessage() : root) + ")");
            }
            if (files.isEmpty()) throw ApiException.badRequest("body: the multipart form has no file part; attach the image as a file");
            try (InputStream in = files.getFirst().content()) {
                return readBounded(in, maxBodyBytes);
            }
        }
        byte[] b = body(ctx);
        if (b.length == 0) throw ApiException.badRequest("body: empty; send a JPEG, PNG or BMP image (raw or as a multipart file)");
        return b;
    }

    /** The request body, refused with 413 past the limit whether or not Content-Length announced it. */
    byte[] body(Context ctx) throws IOException {
        long declared = ctx.req().getContentLengthLong();
        if (declared > maxBodyBytes) throw tooLarge(declared);
        return readBounded(ctx.req().getInputStream(), maxBodyBytes);
    }

    private static byte[] readBounded(InputStream in, long limit) throws IOException {
        byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
        if (b.length > limit) throw tooLarge(-1);
        return b;
    }

    static ApiException tooLarge(long declared) {
        return new ApiException(413, "body: " + (declared >= 0 ? declared + " bytes is above" : "larger than") + " the limit (--max-body-mb)");
    }

    /** Waits for a batcher's answer until the deadline: 504 past it (the queued request is dropped). */
    static List<Tensor> await(CompletableFuture<List<Tensor>> f, long deadlineNanos) {
        try {
            return f.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            f.cancel(false);
            throw new ApiException(504, "no answer within the request deadline (--timeout-ms)");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ApiException a) throw a;
            throw new ApiException(500, "inference failed: " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(false);
            throw new ApiException(503, "the server is shutting down", "5");
        }
    }

    static void json(Context ctx, int status, Object body) {
        try {
            ctx.status(status).contentType("application/json").result(JSON.writeValueAsBytes(body));
        } catch (IOException e) {
            throw new IllegalStateException(e); // maps of strings and numbers always serialize
        }
    }

    /** A client-supplied string as quoted in an error: at most 100 characters. */
    static String clip(String s) {
        return s == null ? "null" : s.length() <= 100 ? s : s.substring(0, 100) + "...";
    }
}
