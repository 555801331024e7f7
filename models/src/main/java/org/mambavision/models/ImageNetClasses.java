package org.mambavision.models;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The 1000 ImageNet-1K class names in index order (shipped as a resource). */
public final class ImageNetClasses {
    private static volatile List<String> names;

    private ImageNetClasses() {}

    public static List<String> names() {
        List<String> n = names;
        if (n == null) {
            try (InputStream in = ImageNetClasses.class.getResourceAsStream("imagenet_classes.txt")) {
                if (in == null) throw new IllegalStateException("imagenet_classes.txt missing from the jar");
                List<String> list = new ArrayList<>(1000);
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
                for (String line; (line = r.readLine()) != null; ) if (!line.isBlank()) list.add(line.strip());
                names = n = List.copyOf(list);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return n;
    }
}
