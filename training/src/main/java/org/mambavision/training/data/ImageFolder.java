package org.mambavision.training.data;

import org.mambavision.inference.image.Images;

import java.io.IOException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.EnumSet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * root/class_name/**&#47;*.{jpg,jpeg,png,bmp}, classes in sorted name order (torchvision's ImageFolder). Images are
 * decoded in {@link #get}. Unreadable files never stop training: with header checking on they are left out when
 * indexing (not an image, or more pixels than the limit); a file that fails to decode later is remembered and
 * {@code get} returns the next readable sample instead (deterministic, since readability is). {@link #skipped()}
 * lists every such file with the reason, in the order found; the trainer logs them and counts them in its summary.
 *
 * <p>A class folder with no files, or none that can be read, is an error naming the folder: the class would have no
 * samples, and the label numbering would no longer match what the user sees on disk. A symbolic-link loop inside a
 * class folder is skipped and named.
 *
 * <p>When root has train/ and val/ (or validation/, test/) subfolders, the split picks one.
 */
public final class ImageFolder implements Dataset {
    private static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp");

    private final Path root;
    private final List<String> classNames;
    private final Path[] files;
    private final int[] labels;
    private final int channels;
    private final long maxImagePixels;
    private final List<String> skipped = Collections.synchronizedList(new ArrayList<>());
    private final Set<Integer> bad = ConcurrentHashMap.newKeySet();

    public static ImageFolder load(DataOptions o) throws IOException {
        if (o.dataDir() == null) throw new DatasetNotFoundException("imagefolder: pass data_dir (root/class_name/image files)");
        return new ImageFolder(splitRoot(o.dataDir(), o.train()), o.channels(), o.verifyImages(), o.maxImagePixels());
    }

    /** The class count of the split {@code o} selects: its class folders, without indexing the images. */
    public static int numClasses(DataOptions o) throws IOException {
        if (o.dataDir() == null) throw new DatasetNotFoundException("imagefolder: pass data_dir (root/class_name/image files)");
        return classDirs(splitRoot(o.dataDir(), o.train())).size();
    }

    /** The class folders under {@code root} in sorted name order (hidden ones left out). */
    private static List<Path> classDirs(Path root) throws IOException {
        if (!Files.isDirectory(root)) throw new DatasetNotFoundException("imagefolder: " + root + " is not a directory");
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(root)) {
            classDirs = s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        }
        if (classDirs.isEmpty()) throw new DatasetNotFoundException("imagefolder: no class folders under " + root);
        return classDirs;
    }

    static Path splitRoot(Path root, boolean train) {
        List<String> names = train ? List.of("train") : List.of("val", "validation", "test");
        for (String n : names) if (Files.isDirectory(root.resolve(n))) return root.resolve(n);
        return root;
    }

    public ImageFolder(Path root, int channels, boolean verifyImages) throws IOException {
        this(root, channels, verifyImages, Images.DEFAULT_MAX_PIXELS);
    }

    public ImageFolder(Path root, int channels, boolean verifyImages, long maxImagePixels) throws IOException {
        this.root = root;
        this.channels = channels;
        this.maxImagePixels = maxImagePixels;
        List<Path> classDirs = classDirs(root);
        List<String> names = new ArrayList<>();
        List<Path> fileList = new ArrayList<>();
        List<Integer> labelList = new ArrayList<>();
        for (int k = 0; k < classDirs.size(); k++) {
            Path dir = classDirs.get(k);
            names.add(dir.getFileName().toString());
            List<Path> inClass = imageFiles(dir);
            if (inClass.isEmpty()) {
                throw new DatasetNotFoundException("imagefolder: class folder " + dir + " has no .jpg/.jpeg/.png/.bmp files");
            }
            int usable = 0;
            String firstProblem = null;
            for (Path f : inClass) {
                String problem = verifyImages ? Images.headerProblem(f, maxImagePixels) : null;
                if (problem != null) {
                    skipped.add(f + ": " + problem);
                    if (firstProblem == null) firstProblem = f.getFileName() + ": " + problem;
                    continue;
                }
                fileList.add(f);
                labelList.add(k);
                usable++;
            }
            if (usable == 0) {
                throw new DatasetNotFoundException("imagefolder: class folder " + dir + " has no usable image (all " + inClass.size()
                        + " files unreadable; first: " + firstProblem + ")");
            }
        }
        this.classNames = List.copyOf(names);
        this.files = fileList.toArray(new Path[0]);
        this.labels = labelList.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The image files under a class folder, sorted, following links; a link loop is recorded in skipped() and passed over. */
    private List<Path> imageFiles(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        Files.walkFileTree(dir, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile() && hasImageExtension(file)) out.add(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                if (e instanceof FileSystemLoopException) skipped.add(file + ": symbolic link loop, skipped");
                else skipped.add(file + ": cannot be read (" + e.getMessage() + ")");
                return FileVisitResult.CONTINUE;
            }
        });
        Collections.sort(out);
        return out;
    }

    private static boolean hasImageExtension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    @Override public String name() { return "imagefolder(" + root + ")"; }

    @Override public int size() { return files.length; }

    @Override public int numClasses() { return classNames.size(); }

    @Override public List<String> classNames() { return classNames; }

    @Override public List<String> skipped() {
        synchronized (skipped) {
            return List.copyOf(skipped);
        }
    }

    public Path file(int index) { return files[index]; }

    public int label(int index) { return labels[index]; }

    @Override
    public Sample get(int index) {
        checkIndex(index);
        for (int tries = 0; tries < files.length; tries++) {
            int i = (index + tries) % files.length;
            if (bad.contains(i)) continue;
            try {
                return new Sample(Images.read(files[i], channels, maxImagePixels), labels[i]);
            } catch (IOException | RuntimeException e) {
                if (bad.add(i)) skipped.add(e.getMessage() != null && e.getMessage().startsWith(files[i].toString()) ? e.getMessage() : files[i] + ": " + e);
            }
        }
        throw new IllegalStateException(name() + ": none of the " + files.length + " files could be decoded; see skipped()");
    }
}
