package org.mambavision.models;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** The counts from the configuration equal those of a built model's forward pass, and the published ones. */
class ModelComplexityTest {
    static void assertSameAsForwardPass(String name, int h, int w) {
        VisionModel m = ModelRegistry.create(name);
        ModelSummary s = ModelSummary.of(m, h, w);
        ModelComplexity c = ModelComplexity.of(name, h, w);
        assertEquals(s.params(), c.params(), name + " parameters");
        assertEquals(s.macs(), c.macs(), name + " MACs at " + h + "x" + w);
    }

    @Test
    void flatModelsAtTheirDefaultAndAnotherSize() {
        assertSameAsForwardPass("flat_tiny", 224, 224);
        assertSameAsForwardPass("flat_tiny", 32, 64);
    }

    @Test
    void hierarchicalModelsIncludingPaddedWindows() {
        assertSameAsForwardPass("mambavision_mini", 64, 64);
        assertSameAsForwardPass("mambavision_mini", 72, 56);   // level 2 and 3 maps not multiples of the window: padded
        assertSameAsForwardPass("mambavision_t", 224, 224);
    }

    @Test
    void publishedParameterCounts() {
        assertEquals(31_794_248L, ModelComplexity.of("mamba_vision_T").params());
        assertEquals(97_685_288L, ModelComplexity.of("mambavision_b").params());
        // published to 0.01M (REFERENCE.md)
        assertEquals(35.10, ModelComplexity.of("mambavision_t2").params() / 1e6, 0.005);
        assertEquals(50.14, ModelComplexity.of("mambavision_s").params() / 1e6, 0.005);
        assertEquals(227.96, ModelComplexity.of("mambavision_l").params() / 1e6, 0.005);
        assertEquals(241.55, ModelComplexity.of("mambavision_l2").params() / 1e6, 0.005);
        assertEquals(739.57, ModelComplexity.of("mambavision_l3_256").params() / 1e6, 0.005);
    }

    @Test
    void defaultSizeAndPublishedGigaMacsOrder() {
        ModelComplexity t = ModelComplexity.of("mambavision_t");
        assertEquals(224, t.height());
        assertEquals(512, ModelComplexity.of("mambavision_l3_512").width());
        // the paper's GFLOPs (fvcore, which counts multiply-accumulates) are 4.4 for T and 122.3 for L3-256
        assertEquals(4.4, t.macs() / 1e9, 0.4);
        assertEquals(122.3, ModelComplexity.of("mambavision_l3_256").macs() / 1e9, 10);
    }

    @Test
    void flatInputNotAMultipleOfThePatchIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelComplexity.of("flat_tiny", 30, 32));
        assertTrue(e.getMessage().contains("patch size 16"), e.getMessage());
    }

    @Test
    void aliasesAndDefaultSizes() {
        assertEquals(java.util.List.of("mamba_vision_B", "mamba_vision_B_21k"), ModelRegistry.aliases("mambavision_b"));
        assertEquals(java.util.List.of("tiny"), ModelRegistry.aliases("flat_tiny"));
        assertTrue(ModelRegistry.aliases("mambavision_mini").isEmpty());
        assertEquals(256, ModelRegistry.defaultImgSize("mamba_vision_L3_256_21k"));
    }
}
