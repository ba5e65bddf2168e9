#include "error_class.h"

#include "config/sb_schema.h"

static sb_val setting(sb_val errors, const char *key, const char *path)
{
    const sb_val *v = errors.kind == SB_MAP ? sb_map_get_str(errors, key) : NULL;
    return v ? sb_val_ref(*v) : sb_schema_default(&sb_schema_workspace, path);
}

bool error_classes_init(error_classes *ec, sb_val errors)
{
    ec->transient = setting(errors, "transient_patterns", "errors.transient_patterns");
    ec->permanent = setting(errors, "permanent_patterns", "errors.permanent_patterns");
    sb_val d = setting(errors, "default", "errors.default");
    ec->default_transient = sb_str_eq(d, "transient");
    sb_val_free(d);
    static const char src[] = "message.matches(pattern)";
    ec->matcher = sb_cel_parse(src, sizeof src - 1, NULL, NULL);
    return ec->matcher && ec->transient.kind == SB_LIST && ec->permanent.kind == SB_LIST;
}

static bool any_match(const error_classes *ec, const char *msg, sb_val patterns)
{
    for (size_t i = 0; i < sb_list_len(patterns); i++) {
        sb_val pat = *sb_list_at(patterns, i);
        if (pat.kind != SB_STRING)
            continue;
        sb_val vars = sb_map_new(2);
        sb_map_set_str(&vars, "message", sb_string_cstr(msg));
        sb_map_set_str(&vars, "pattern", sb_val_ref(pat));
        sb_val v = sb_cel_eval(ec->matcher, vars);
        bool hit = v.kind == SB_BOOL && v.as.b;
        sb_val_free(v);
        sb_val_free(vars);
        if (hit)
            return true;
    }
    return false;
}

const char *error_classes_of(const error_classes *ec, const char *message)
{
    if (any_match(ec, message, ec->permanent))
        return "permanent";
    if (any_match(ec, message, ec->transient))
        return "transient";
    return ec->default_transient ? "transient" : "permanent";
}

void error_classes_free(error_classes *ec)
{
    sb_cel_program_free(ec->matcher);
    sb_val_free(ec->transient);
    sb_val_free(ec->permanent);
    ec->matcher = NULL;
    ec->transient = ec->permanent = sb_null();
}
