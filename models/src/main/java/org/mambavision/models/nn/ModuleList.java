package org.mambavision.models.nn;

/** A named container (nn.ModuleList / nn.Sequential naming): children are "0", "1", ... or any name. */
public final class ModuleList extends Module {
    public <M extends Module> M add(String name, M m) {
        return child(name, m);
    }
}
