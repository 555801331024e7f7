package org.mambavision.cli;

/** Parses {@code --img-size 224} or {@code --img-size 256x320} (height x width). */
record ImageSize(int height, int width) {
    static ImageSize parse(String s, int defaultSize) {
        if (s == null) return new ImageSize(defaultSize, defaultSize);
        String[] p = s.toLowerCase(java.util.Locale.ROOT).split("x");
        try {
            int h = Integer.parseInt(p[0].strip());
            int w = p.length > 1 ? Integer.parseInt(p[1].strip()) : h;
            if (p.length > 2 || h < 1 || w < 1 || h > 8192 || w > 8192) throw new NumberFormatException();
            return new ImageSize(h, w);
        } catch (NumberFormatException e) {
            throw new UserError("--img-size: '" + s + "' is not a size like 224 or 256x320");
        }
    }
}
