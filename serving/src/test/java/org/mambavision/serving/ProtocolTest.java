package org.mambavision.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mambavision.serving.ServingFixtures.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mambavision.inference.Predictor;
import org.mambavision.models.Features;

/** The Open Inference Protocol v2 endpoints with JSON tensors, against direct forward passes of the same model. */
class ProtocolTest {
    static Predictor predictor;
    static InferenceServer server;
    static String base;

    @BeforeAll
    static void start() {
        predictor = miniPredictor(3);
        server = InferenceServer.start(Map.of("mini", predictor), config());
        base = server.url();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void healthAndMetadata() throws Exception {
        assertEquals(200, get(base + "/v2/health/live").statusCode());
        assertEquals(200, get(base + "/v2/health/ready").statusCode());
        assertEquals(200, get(base + "/v2/models/mini/ready").statusCode());
        assertEquals(200, get(base + "/v2/models/mini/versions/1/ready").statusCode());
        JsonNode server = json(get(base + "/v2"));
        assertEquals("[\"binary_tensor_data\"]", server.get("extensions").toString());

        JsonNode meta = json(get(base + "/v2/models/mini"));
        assertEquals("mini", meta.get("name").asText());
        JsonNode in = meta.get("inputs").get(0);
        assertEquals("input", in.get("name").asText());
        assertEquals("FP32", in.get("datatype").asText());
        assertEquals("[-1,3,64,64]", in.get("shape").toString());
        JsonNode outs = meta.get("outputs");
        assertEquals("logits", outs.get(0).get("name").asText());
        assertEquals("[-1,10]", outs.get(0).get("shape").toString());
        assertEquals("pooled", outs.get(1).get("name").asText());
        assertEquals(6, outs.size(), "logits, pooled, stage0..3");
        Features f = directFeatures(predictor, randomImage(1, 1, 3, 64), 1);
        assertEquals("[-1," + f.pooled().dim(1) + "]", outs.get(1).get("shape").toString());
        for (int i = 0; i < 4; i++) {
            int[] s = f.stages().get(i).shape();
            assertEquals("stage" + i, outs.get(2 + i).get("name").asText());
            assertEquals("[-1," + s[1] + "," + s[2] + "," + s[3] + "]", outs.get(2 + i).get("shape").toString());
        }
    }

    @Test
    void unknownModelAndVersionAre404() throws Exception {
        HttpResponse<byte[]> r = get(base + "/v2/models/nope");
        assertEquals(404, r.statusCode());
        assertTrue(json(r).get("error").asText().contains("unknown model 'nope'"), new String(r.body()));
        assertEquals(404, post(base + "/v2/models/nope/infer", "{}").statusCode());
        assertEquals(404, get(base + "/v2/models/mini/versions/2").statusCode());
    }

    @Test
    void inferReturnsTheModelsLogits() throws Exception {
        float[] x = randomImage(11, 2, 3, 64);
        HttpResponse<byte[]> r = post(base + "/v2/models/mini/infer", inferJson(x, 2, 3, 64, null), "Content-Type", "application/json");
        assertEquals(200, r.statusCode(), new String(r.body()));
        JsonNode body = json(r);
        assertEquals("mini", body.get("model_name").asText());
        assertEquals("r1", body.get("id").asText());
        assertEquals(1, body.get("outputs").size(), "logits only unless outputs asks for more");
        JsonNode logits = body.get("outputs").get(0);
        assertEquals("logits", logits.get("name").asText());
        assertEquals("[2,10]", logits.get("shape").toString());
        assertTrue(maxRelativeError(floats(logits.get("data")), directLogits(predictor, x, 2)) < 1e-5);
    }

    @Test
    void requestedFeatureOutputs() throws Exception {
        float[] x = randomImage(12, 1, 3, 64);
        String outputs = "[{\"name\":\"pooled\"},{\"name\":\"stage3\"},{\"name\":\"logits\"}]";
        JsonNode body = json(post(base + "/v2/models/mini/infer", inferJson(x, 1, 3, 64, outputs)));
        Features f = directFeatures(predictor, x, 1);
        JsonNode outs = body.get("outputs");
        assertEquals("pooled", outs.get(0).get("name").asText());
        assertTrue(maxRelativeError(floats(outs.get(0).get("data")), f.pooled().data) < 1e-5);
        assertEquals("stage3", outs.get(1).get("name").asText());
        assertTrue(maxRelativeError(floats(outs.get(1).get("data")), f.stages().get(3).data) < 1e-5);
        assertTrue(maxRelativeError(floats(outs.get(2).get("data")), directLogits(predictor, x, 1)) < 1e-5);
    }

    @Test
    void nestedDataAndShapeAfterData() throws Exception {
        float[] x = randomImage(13, 1, 3, 64);
        StringBuilder nested = new StringBuilder("[[");
        for (int c = 0; c < 3; c++) {
            nested.append(c > 0 ? ",[" : "[");
            for (int i = 0; i < 64; i++) {
                nested.append(i > 0 ? ",[" : "[");
                for (int j = 0; j < 64; j++) nested.append(j > 0 ? "," : "").append(x[(c * 64 + i) * 64 + j]);
                nested.append(']');
            }
            nested.append(']');
        }
        nested.append("]]");
        String req = "{\"inputs\":[{\"data\":" + nested + ",\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,64,64]}]}";
        HttpResponse<byte[]> r = post(base + "/v2/models/mini/infer", req);
        assertEquals(200, r.statusCode(), new String(r.body()));
        assertTrue(maxRelativeError(floats(json(r).get("outputs").get(0).get("data")), directLogits(predictor, x, 1)) < 1e-5);
    }

    @Test
    void badRequestsName400AndTheField() throws Exception {
        String ok = inferJson(randomImage(14, 1, 3, 64), 1, 3, 64, null);
        expect400("{\"inputs\":[", "malformed JSON");
        expect400("[1,2]", "expected a JSON object");
        expect400("{}", "inputs: missing");
        expect400(ok.replace("\"FP32\"", "\"FP64\""), "inputs[0].datatype: expected FP32, got FP64");
        expect400(ok.replace("[1,3,64,64]", "[1,3,32,32]"), "inputs[0].data: more values than shape [1, 3, 32, 32] needs (3072)");
        expect400(ok.replace("[1,3,64,64]", "[2,3,64,64]"), "inputs[0].data: 12288 values, but shape [2, 3, 64, 64] needs 24576");
        expect400(ok.replace("[1,3,64,64]", "[1,3,4096]"), "inputs[0].shape: expected [N, 3, 64, 64]");
        expect400(ok.replace("\"name\":\"input\"", "\"name\":\"images\""), "inputs: expected one tensor named 'input'");
        expect400(ok.replace("\"data\":[", "\"data\":[\"a\","), "inputs[0].data: element 0 is a, not a number");
        expect400(ok.replace("}]}", "}],\"outputs\":[{\"name\":\"stage9\"}]}"), "outputs[0].name: unknown output 'stage9'");
        expect400(ok.replace("[1,3,64,64]", "[-1,3,64,64]"), "inputs[0].shape: expected non-negative integers");
        expect400(ok.replace("}]}", "}],\"outputs\":[{\"name\":\"stage0\"},{\"name\":\"stage0\"}]}"), "outputs[1].name: 'stage0' is requested twice");
        expect400(inferJson(randomImage(1, 9, 3, 64), 9, 3, 64, null), "batch of 9 rows; this server takes 1..8");
    }

    private static void expect400(String body, String message) throws Exception {
        HttpResponse<byte[]> r = post(base + "/v2/models/mini/infer", body);
        assertEquals(400, r.statusCode(), new String(r.body()));
        String error = json(r).get("error").asText();
        assertTrue(error.contains(message), "expected '" + message + "' in: " + error);
    }

    @Test
    void sameAnswerEveryTime() throws Exception {
        float[] x = randomImage(15, 1, 3, 64);
        JsonNode a = json(post(base + "/v2/models/mini/infer", inferJson(x, 1, 3, 64, null)));
        JsonNode b = json(post(base + "/v2/models/mini/infer", inferJson(x, 1, 3, 64, null)));
        assertArrayEquals(floats(a.get("outputs").get(0).get("data")), floats(b.get("outputs").get(0).get("data")));
    }
}
