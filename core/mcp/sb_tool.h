#ifndef SB_TOOL_H
#define SB_TOOL_H
typedef struct sb_tool_desc { const char *name, *description, *input_schema_json; } sb_tool_desc;
#endif
