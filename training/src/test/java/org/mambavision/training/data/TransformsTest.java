package org.mambavision.training.data;

import org.mambavision.inference.image.Image;
import org.mambavision.inference.image.Images;
import org.mambavision.inference.EvalPreprocessing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.inference.image.CenterCrop;
import org.mambavision.training.data.transforms.ColorJitter;
import org.mambavision.inference.image.Normalize;
import org.mambavision.training.data.transforms.RandAugment;
import org.mambavision.training.data.transforms.RandomErasing;
import org.mambavision.training.data.transforms.RandomHorizontalFlip;
import org.mambavision.training.data.transforms.RandomResizedCrop;
import org.mambavision.training.data.transforms.RandomRotation;
import org.mambavision.inference.image.Resample;
import org.mambavision.inference.image.Resize;
import org.mambavision.inference.image.Transform;

/**
 * Resampling against numbers produced by Pillow 12.3.0, and the other transforms' contracts.
 *
 * <p>The constants below were produced offline with Pillow 12.3.0 (python3, no numpy): the test image is
 * pixel(c, y, x) = (37x + 91y + 53c + 7((x*y) mod 17)) mod 256, built with Image.new + putdata in mode RGB, L, or F
 * (values / 255), then {@code im.resize((W, H), Image.BICUBIC or BILINEAR)}; outputs listed channel-major (CHW).
 * EVAL_* is the timm eval pipeline on a 40x30 RGB image: resize shorter side to floor(16 / 0.875) = 18 bicubic,
 * crop 16x16 at (round((H - 16) / 2), round((W - 16) / 2)).
 */
class TransformsTest {
    static final int[] U8_RGB_13x9_to_5x4_BICUBIC = {
        101, 123, 124, 97, 112, 127, 137, 140, 120, 113, 115, 133, 99, 141, 137, 126,
        113, 132, 138, 156, 130, 136, 125, 112, 161, 133, 137, 113, 130, 107, 154, 152,
        115, 139, 143, 104, 123, 119, 135, 121, 143, 147, 132, 139, 124, 127, 141, 134,
        112, 130, 119, 109, 126, 112, 131, 148, 135, 138, 123, 116};
    static final int[] U8_RGB_6x5_to_9x7_BICUBIC = {
        0, 10, 37, 62, 86, 112, 148, 179, 195, 43, 60, 94, 134, 174, 171, 76,
        78, 106, 121, 147, 170, 148, 179, 176, 43, 45, 83, 179, 218, 211, 50, 38,
        88, 121, 160, 184, 49, 80, 110, 93, 128, 184, 235, 159, 76, 42, 71, 122,
        180, 162, 141, 197, 120, 35, 109, 140, 193, 249, 142, 35, 96, 83, 55, 46,
        63, 90, 114, 147, 179, 203, 231, 248, 94, 122, 165, 198, 136, 74, 108, 140,
        159, 179, 164, 160, 204, 116, 30, 76, 114, 136, 248, 136, 24, 70, 107, 141,
        174, 213, 237, 107, 95, 100, 154, 213, 215, 90, 99, 143, 94, 139, 176, 130,
        160, 180, 101, 88, 99, 162, 209, 210, 48, 42, 106, 166, 144, 107, 99, 115,
        145, 181, 209, 235, 255, 140, 13, 165, 194, 196, 101, 99, 137, 165, 143, 111,
        158, 192, 190, 57, 54, 102, 136, 140, 135, 29, 53, 92, 125, 160, 196, 242,
        130, 18, 85, 121, 178, 230, 150, 69, 118, 128, 122, 173, 141, 124, 177, 130,
        82, 132, 160, 170, 233, 118, 9, 64, 120, 173, 221, 196, 160};
    static final int[] U8_L_10x10_to_7x3_BILINEAR = {
        100, 122, 134, 114, 150, 94, 125, 111, 130, 130, 127, 109, 141, 132, 126, 121,
        136, 143, 89, 166, 113};
    static final int[] U8_L_37x3_to_5x3_BICUBIC = {
        99, 115, 117, 120, 124, 122, 129, 145, 112, 108, 129, 93, 116, 145, 145};
    static final double[] F_13x9_to_6x5_BICUBIC = {
        0.30094534158706665, 0.49620160460472107, 0.4915609359741211, 0.4210498034954071, 0.4113031029701233, 0.4661935567855835, 0.5296775102615356, 0.494198203086853, 0.5986670255661011, 0.43271374702453613, 0.37660443782806396, 0.45761826634407043, 0.4622860550880432, 0.5557814836502075, 0.43445131182670593, 0.6066579222679138,
        0.5400254726409912, 0.4473848342895508, 0.4080463647842407, 0.5435408353805542, 0.38555142283439636, 0.43086278438568115, 0.5485033988952637, 0.6014106869697571, 0.5531384348869324, 0.392099529504776, 0.48411646485328674, 0.6532014608383179, 0.4734782874584198, 0.6387795209884644};
    static final double[] F_5x4_to_8x11_BICUBIC = {
        -0.046830467879772186, 0.012416482903063297, 0.1145835742354393, 0.2035106122493744, 0.28898197412490845, 0.37853726744651794, 0.5458323359489441, 0.653127133846283, -0.0018366085132583976, 0.058810725808143616, 0.16356146335601807, 0.255333811044693, 0.347653865814209, 0.43852582573890686, 0.5265640616416931, 0.5749945044517517,
        0.10140562057495117, 0.16309446096420288, 0.277535617351532, 0.40563979744911194, 0.5314986705780029, 0.6217585802078247, 0.47327521443367004, 0.3463694155216217, 0.2514810860157013, 0.31697383522987366, 0.44153451919555664, 0.5910271406173706, 0.7468453049659729, 0.8400464057922363, 0.4053831696510315, 0.06606193631887436,
        0.40090179443359375, 0.4794440269470215, 0.5971386432647705, 0.6368706822395325, 0.7440283298492432, 0.8556889295578003, 0.37442106008529663, -0.0007496812613680959, 0.5846357345581055, 0.6906326413154602, 0.7751379013061523, 0.5013939738273621, 0.4413449764251709, 0.5949907898902893, 0.3725064992904663, 0.18649518489837646,
        0.7019946575164795, 0.8321043848991394, 0.8892090916633606, 0.34784889221191406, 0.1413353979587555, 0.33259117603302, 0.4107624590396881, 0.444891095161438, 0.5961007475852966, 0.7264053225517273, 0.7989107966423035, 0.32419154047966003, 0.14880335330963135, 0.34168878197669983, 0.5343183279037476, 0.6517654657363892,
        0.30118048191070557, 0.4128842055797577, 0.5343188643455505, 0.38844358921051025, 0.38207584619522095, 0.5485692620277405, 0.7357403635978699, 0.8484737277030945, 0.06700558215379715, 0.16276247799396515, 0.3233148455619812, 0.4468989968299866, 0.579512894153595, 0.7231523394584656, 0.8866583704948425, 0.9815448522567749,
        -0.016251079738140106, 0.07444902509450912, 0.24877020716667175, 0.4638102650642395, 0.643351137638092, 0.7798532247543335, 0.9450080990791321, 1.040891170501709};
    static final double[] F_9x9_to_4x4_BILINEAR = {
        0.39459943771362305, 0.4836209714412689, 0.4969460964202881, 0.4093893766403198, 0.47311607003211975, 0.5422589182853699, 0.5364477038383484, 0.4930245280265808, 0.45075085759162903, 0.5149199366569519, 0.41401126980781555, 0.5131133794784546, 0.5142761468887329, 0.4342365264892578, 0.4627314507961273, 0.6404353976249695};
    /** (resizedW, resizedH, top, left) */
    static final int[] EVAL_40x30_16_0875_U8_GEOM = {24, 18, 1, 4};
    static final int[] EVAL_40x30_16_0875_U8 = {
        101, 96, 82, 148, 107, 110, 114, 147, 159, 126, 124, 134, 149, 127, 87, 172,
        155, 173, 92, 118, 100, 140, 136, 138, 149, 175, 135, 111, 101, 179, 141, 126,
        113, 124, 135, 139, 123, 113, 128, 132, 92, 134, 118, 142, 129, 146, 102, 137,
        182, 119, 154, 164, 157, 110, 154, 111, 136, 131, 90, 125, 138, 126, 134, 105,
        137, 144, 138, 113, 111, 119, 110, 117, 136, 107, 170, 181, 104, 161, 163, 118,
        77, 137, 132, 83, 200, 78, 71, 152, 135, 80, 102, 111, 107, 142, 91, 147,
        145, 165, 128, 74, 187, 136, 124, 104, 109, 141, 101, 61, 81, 166, 116, 86,
        136, 122, 112, 91, 125, 59, 111, 119, 86, 89, 148, 192, 205, 154, 163, 156,
        141, 50, 71, 105, 145, 153, 126, 151, 133, 114, 181, 191, 179, 142, 158, 89,
        118, 97, 112, 178, 155, 98, 107, 172, 145, 75, 104, 146, 187, 86, 70, 143,
        112, 125, 81, 156, 137, 121, 107, 94, 108, 110, 129, 130, 167, 157, 83, 155,
        89, 130, 114, 141, 97, 152, 157, 92, 131, 170, 155, 135, 119, 110, 144, 81,
        125, 113, 140, 105, 134, 120, 127, 143, 127, 152, 128, 121, 123, 142, 111, 147,
        164, 128, 87, 110, 168, 135, 174, 134, 127, 150, 116, 88, 120, 116, 69, 124,
        82, 135, 139, 157, 130, 119, 135, 64, 140, 120, 112, 189, 80, 100, 158, 134,
        114, 76, 128, 81, 132, 90, 79, 121, 151, 99, 81, 130, 142, 175, 118, 145,
        111, 117, 98, 131, 96, 141, 123, 147, 157, 132, 153, 159, 176, 88, 146, 154,
        132, 164, 99, 120, 126, 117, 125, 132, 121, 154, 133, 106, 153, 148, 182, 122,
        84, 155, 136, 149, 96, 141, 146, 76, 71, 144, 118, 95, 88, 136, 162, 101,
        116, 158, 89, 154, 133, 157, 103, 147, 101, 154, 114, 121, 169, 145, 117, 114,
        135, 106, 178, 112, 161, 94, 179, 93, 102, 173, 124, 90, 122, 151, 87, 127,
        150, 101, 171, 124, 153, 114, 105, 73, 107, 140, 139, 156, 49, 147, 128, 112,
        144, 197, 189, 99, 116, 185, 166, 101, 163, 194, 164, 129, 97, 163, 171, 91,
        108, 130, 173, 122, 88, 117, 130, 127, 153, 143, 87, 81, 65, 96, 185, 181,
        112, 115, 124, 165, 143, 142, 186, 123, 122, 147, 70, 133, 206, 79, 67, 109,
        84, 120, 163, 203, 65, 74, 134, 171, 79, 122, 149, 155, 102, 90, 134, 170,
        140, 126, 114, 164, 68, 111, 95, 126, 97, 148, 125, 99, 197, 96, 131, 168,
        140, 117, 84, 110, 142, 99, 88, 95, 133, 174, 158, 101, 172, 153, 82, 101,
        100, 129, 156, 85, 104, 128, 146, 99, 85, 141, 133, 119, 104, 134, 143, 130,
        99, 123, 96, 149, 134, 187, 121, 145, 114, 177, 115, 125, 139, 112, 143, 110,
        120, 108, 134, 97, 99, 116, 182, 116, 105, 173, 147, 107, 137, 136, 111, 147,
        173, 89, 139, 145, 184, 109, 123, 104, 61, 121, 132, 158, 77, 80, 101, 138,
        160, 114, 155, 91, 90, 165, 148, 170, 136, 124, 156, 133, 135, 122, 179, 117,
        116, 85, 111, 162, 196, 134, 134, 129, 101, 80, 127, 152, 177, 141, 124, 139,
        102, 141, 118, 130, 97, 141, 117, 136, 109, 125, 177, 156, 110, 118, 155, 85,
        121, 117, 129, 113, 113, 102, 106, 91, 144, 91, 174, 152, 155, 112, 118, 162,
        174, 144, 99, 141, 154, 98, 93, 106, 152, 107, 135, 115, 115, 141, 103, 157,
        100, 97, 208, 151, 76, 147, 140, 142, 113, 115, 69, 153, 111, 110, 172, 169,
        75, 54, 148, 171, 85, 79, 105, 126, 95, 64, 98, 127, 108, 62, 142, 161,
        143, 196, 167, 143, 148, 144, 170, 121, 83, 118, 97, 104, 79, 132, 102, 119,
        180, 172, 169, 187, 147, 66, 99, 147, 133, 81, 120, 150, 54, 77, 100, 147,
        93, 154, 161, 102, 68, 148, 147, 54, 131, 149, 197, 100, 105, 124, 193, 126,
        114, 119, 172, 108, 85, 169, 155, 106, 141, 135, 86, 142, 144, 98, 192, 118,
        147, 100, 122, 155, 144, 145, 150, 122, 124, 101, 119, 145, 153, 110, 152, 116,
        108, 144, 131, 156, 90, 146, 147, 154, 103, 133, 177, 98, 137, 130, 169, 88,
        96, 132, 139, 125, 122, 113, 98, 112, 159, 91, 169, 112, 128, 128, 131, 163,
        175, 157, 117, 142, 160, 119, 120, 98, 168, 93, 110, 108, 128, 101, 105, 165,
        118, 118, 139, 153, 103, 138, 134, 164, 121, 122, 97, 180, 124, 80, 161, 105};

    static int pix(int c, int y, int x) { return (x * 37 + y * 91 + c * 53 + ((x * y) % 17) * 7) % 256; }

    static byte[] u8(int channels, int h, int w) {
        byte[] b = new byte[channels * h * w];
        for (int c = 0; c < channels; c++) for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) b[(c * h + y) * w + x] = (byte) pix(c, y, x);
        return b;
    }

    static float[] f32(int h, int w) {
        float[] f = new float[h * w];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) f[y * w + x] = (float) (pix(0, y, x) / 255.0);
        return f;
    }

    static int[] unsigned(byte[] b) {
        int[] r = new int[b.length];
        for (int i = 0; i < b.length; i++) r[i] = b[i] & 0xFF;
        return r;
    }

    @Test
    void u8ResizeMatchesPillowExactly() {
        assertArrayEquals(U8_RGB_13x9_to_5x4_BICUBIC, unsigned(Resample.resizeU8(u8(3, 9, 13), 3, 9, 13, 4, 5, Resample.Filter.BICUBIC)));
        assertArrayEquals(U8_RGB_6x5_to_9x7_BICUBIC, unsigned(Resample.resizeU8(u8(3, 5, 6), 3, 5, 6, 7, 9, Resample.Filter.BICUBIC)));
        assertArrayEquals(U8_L_10x10_to_7x3_BILINEAR, unsigned(Resample.resizeU8(u8(1, 10, 10), 1, 10, 10, 3, 7, Resample.Filter.BILINEAR)));
        assertArrayEquals(U8_L_37x3_to_5x3_BICUBIC, unsigned(Resample.resizeU8(u8(1, 3, 37), 1, 3, 37, 3, 5, Resample.Filter.BICUBIC)));
    }

    @Test
    void floatResizeMatchesPillowModeF() {
        assertClose(F_13x9_to_6x5_BICUBIC, Resample.resizeFloat(f32(9, 13), 1, 9, 13, 5, 6, Resample.Filter.BICUBIC), 1e-6);
        assertClose(F_5x4_to_8x11_BICUBIC, Resample.resizeFloat(f32(4, 5), 1, 4, 5, 11, 8, Resample.Filter.BICUBIC), 1e-6);
        assertClose(F_9x9_to_4x4_BILINEAR, Resample.resizeFloat(f32(9, 9), 1, 9, 9, 4, 4, Resample.Filter.BILINEAR), 1e-6);
    }

    /**
     * Pillow's NEAREST (ImagingScaleAffine): output x reads input (int) ((x + 0.5) * in / out), the position summed step
     * by step; values are copied, not blended. Expected indices worked out by hand from that formula.
     */
    @Test
    void nearestCopiesThePixelUnderEachCentre() {
        // one row whose value is its column index: the output lists the columns read
        assertArrayEquals(new int[] {1, 3}, unsigned(Resample.resizeU8(new byte[] {0, 1, 2, 3}, 1, 1, 4, 1, 2, Resample.Filter.NEAREST)));
        assertArrayEquals(new int[] {0, 2}, unsigned(Resample.resizeU8(new byte[] {0, 1, 2}, 1, 1, 3, 1, 2, Resample.Filter.NEAREST)));
        assertArrayEquals(new int[] {0, 0, 1, 1}, unsigned(Resample.resizeU8(new byte[] {0, 1}, 1, 1, 2, 1, 4, Resample.Filter.NEAREST)));
        assertArrayEquals(new int[] {0, 0, 1, 2, 2, 3, 4, 4}, unsigned(Resample.resizeU8(new byte[] {0, 1, 2, 3, 4}, 1, 1, 5, 1, 8,
                Resample.Filter.NEAREST)));
        // columns then rows, every channel, values exact on both paths
        float[] src = randomPixels(2 * 7 * 9, 3);
        float[] out = Resample.resizeFloat(src, 2, 7, 9, 3, 4, Resample.Filter.NEAREST);
        byte[] src8 = new byte[src.length];
        for (int i = 0; i < src.length; i++) src8[i] = (byte) (int) (src[i] * 255);
        byte[] out8 = Resample.resizeU8(src8, 2, 7, 9, 3, 4, Resample.Filter.NEAREST);
        int[] rows = {1, 3, 5}, cols = {1, 3, 5, 7}; // (int) ((i + 0.5) * 7 / 3) and (int) ((j + 0.5) * 9 / 4)
        for (int c = 0; c < 2; c++) {
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 4; j++) {
                    int o = (c * 3 + i) * 4 + j, in = (c * 7 + rows[i]) * 9 + cols[j];
                    assertEquals(src[in], out[o], "float (" + c + ", " + i + ", " + j + ")");
                    assertEquals(src8[in], out8[o], "u8 (" + c + ", " + i + ", " + j + ")");
                }
            }
        }
    }

    static void assertClose(double[] expected, float[] actual, double tol) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], tol, "element " + i);
    }

    @Test
    void officialEvalMatchesTimmOnPillowPixels() {
        int w = 40, h = 30;
        BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) bi.setRGB(x, y, (pix(0, y, x) << 16) | (pix(1, y, x) << 8) | pix(2, y, x));
        assertArrayEquals(new int[] {24, 18}, new int[] {Resample.shorterSideSize(h, w, 18)[1], Resample.shorterSideSize(h, w, 18)[0]});
        float[] out = EvalPreprocessing.official(16, 0.875f).apply(bi);
        assertEquals(3 * 16 * 16, out.length);
        for (int i = 0; i < out.length; i++) {
            int c = i / 256;
            float expected = (EVAL_40x30_16_0875_U8[i] / 255f - Normalize.IMAGENET_MEAN[c]) / Normalize.IMAGENET_STD[c];
            assertEquals(expected, out[i], 1e-6, "element " + i);
        }
    }

    @Test
    void scaleSizeUsesTheDecimalCropPct() {
        assertEquals(256, EvalPreprocessing.scaleSize(224, 0.875));
        assertEquals(240, EvalPreprocessing.scaleSize(224, 0.93));   // 224 / 0.93 = 240.86
        assertEquals(228, EvalPreprocessing.scaleSize(224, 0.98));
        assertEquals(224, EvalPreprocessing.scaleSize(224, 1.0));
    }

    @Test
    void resizeShorterSideAndClamp() {
        Image img = new Image(randomPixels(3 * 20 * 30, 1), 3, 20, 30);
        Image r = new Resize(10, Resample.Filter.BICUBIC).apply(img.copy(), new SplittableRandom(0));
        assertEquals(10, r.height());
        assertEquals(15, r.width());
        for (float v : r.data()) assertTrue(v >= 0 && v <= 1, "clamped to [0, 1]: " + v);
    }

    static float[] randomPixels(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = (float) r.nextDouble();
        return d;
    }

    @Test
    void centerCropUsesRoundHalfEvenAndPads() {
        Image img = new Image(randomPixels(5 * 6, 2), 1, 5, 6);
        Image c = new CenterCrop(2, 3).apply(img, null);
        // offsets: top round(1.5) = 2, left round(1.5) = 2 (half to even)
        for (int y = 0; y < 2; y++) for (int x = 0; x < 3; x++) assertEquals(img.get(0, y + 2, x + 2), c.get(0, y, x));
        Image padded = new CenterCrop(7, 6).apply(img, null);
        assertEquals(0f, padded.get(0, 0, 0));
        assertEquals(img.get(0, 0, 0), padded.get(0, 1, 0)); // top = round(-1) = -1
    }

    @Test
    void randomResizedCropOutputSizeAndBoxInsideImage() {
        RandomResizedCrop t = new RandomResizedCrop(24);
        SplittableRandom rng = new SplittableRandom(3);
        for (int i = 0; i < 200; i++) {
            int h = 10 + rng.nextInt(60), w = 10 + rng.nextInt(60);
            int[] b = t.cropBox(h, w, rng);
            assertTrue(b[0] >= 0 && b[1] >= 0 && b[2] > 0 && b[3] > 0 && b[0] + b[2] <= h && b[1] + b[3] <= w, "box inside " + h + "x" + w);
        }
        Image out = t.apply(new Image(randomPixels(3 * 37 * 50, 4), 3, 37, 50), new SplittableRandom(5));
        assertEquals(3, out.channels());
        assertEquals(24, out.height());
        assertEquals(24, out.width());
        // Fallback: an impossible scale range forces the central crop clamped to the ratio range.
        RandomResizedCrop never = new RandomResizedCrop(8, 5.0, 6.0, 0.75, 4.0 / 3, Resample.Filter.BILINEAR);
        assertArrayEquals(new int[] {0, 27, 30, 40}, never.cropBox(30, 94, new SplittableRandom(6)));
    }

    @Test
    void flipIsAMirrorAndProbabilityRespected() {
        Image img = new Image(randomPixels(2 * 3 * 5, 7), 2, 3, 5);
        Image f = new RandomHorizontalFlip(1.0).apply(img.copy(), new SplittableRandom(0));
        for (int c = 0; c < 2; c++) for (int y = 0; y < 3; y++) for (int x = 0; x < 5; x++) assertEquals(img.get(c, y, x), f.get(c, y, 4 - x));
        assertEquals(img, new RandomHorizontalFlip(0.0).apply(img.copy(), new SplittableRandom(0)));
    }

    @Test
    void rotationZeroIsIdentityAndShapeIsKept() {
        Image img = new Image(randomPixels(3 * 8 * 8, 8), 3, 8, 8);
        assertEquals(img, new RandomRotation(0).apply(img.copy(), new SplittableRandom(1)));
        Image r = new RandomRotation(30).apply(img.copy(), new SplittableRandom(1));
        assertEquals(img.shapeString(), r.shapeString());
    }

    @Test
    void colorJitterKeepsRangeAndHueShiftOfFullTurnIsIdentity() {
        Image img = new Image(randomPixels(3 * 16 * 16, 9), 3, 16, 16);
        Image j = new ColorJitter(0.4, 0.4, 0.4, 0.1).apply(img.copy(), new SplittableRandom(2));
        for (float v : j.data()) assertTrue(v >= -1e-6 && v <= 1 + 1e-6);
        assertTrue(!j.equals(img));
    }

    @Test
    void randAugmentRunsEveryOpAtEveryMagnitude() {
        RandAugment ra = RandAugment.parse("rand-m9-mstd0.5-inc1");
        SplittableRandom rng = new SplittableRandom(10);
        for (int i = 0; i < 300; i++) {
            Image out = ra.apply(new Image(randomPixels(3 * 20 * 20, i), 3, 20, 20), rng);
            assertEquals("3x20x20", out.shapeString());
            for (float v : out.data()) assertTrue(v >= 0 && v <= 1 && !Float.isNaN(v), "value " + v);
        }
        assertThrows(IllegalArgumentException.class, () -> RandAugment.parse("rand-q3"));
    }

    @Test
    void randomErasingFillsOneBox() {
        Image img = Image.zeros(3, 32, 32);
        Image e = new RandomErasing(1.0).apply(img, new SplittableRandom(11));
        int changed = 0;
        for (float v : e.data()) if (v != 0) changed++;
        assertTrue(changed >= 0.02 * 32 * 32 * 3 * 0.5 && changed <= 32 * 32 * 3 / 3.0 * 1.1, "changed " + changed);
    }

    @Test
    void normalizeAndCompose() {
        Image img = new Image(new float[] {0.485f, 0.456f, 0.406f}, 3, 1, 1);
        Transform t = Transform.compose(Normalize.imagenet(), (im, r) -> im);
        assertArrayEquals(new float[] {0, 0, 0}, t.apply(img, null).data(), 1e-6f);
    }

    @Test
    void imagesReadGivesClearErrorForNonImage(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("notes.png");
        Files.writeString(f, "this is not a png");
        IOException e = assertThrows(IOException.class, () -> Images.read(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("not an image or unsupported format"), e.getMessage());
    }
}
