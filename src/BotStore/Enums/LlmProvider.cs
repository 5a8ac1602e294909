namespace BotStore.Enums;

/// <summary>The language-model provider a bot calls. Stored as SMALLINT; the seed's reference table.</summary>
[EnumDomain("llm_provider")]
public enum LlmProvider : short
{
    /// <summary>OpenAI API.</summary>
    [EnumValue("openai", "OpenAI API")]
    Openai = 0,

    /// <summary>Anthropic Claude.</summary>
    [EnumValue("anthropic", "Anthropic Claude")]
    Anthropic = 1,

    /// <summary>Azure OpenAI.</summary>
    [EnumValue("azure_openai", "Azure OpenAI")]
    AzureOpenai = 2,

    /// <summary>Azure Claude.</summary>
    [EnumValue("azure_claude", "Azure Claude")]
    AzureClaude = 3,

    /// <summary>Google AI.</summary>
    [EnumValue("google", "Google AI")]
    Google = 4,

    /// <summary>Local llama.cpp.</summary>
    [EnumValue("local", "Local llama.cpp")]
    Local = 5,

    /// <summary>Ollama.</summary>
    [EnumValue("ollama", "Ollama")]
    Ollama = 6,

    /// <summary>Groq.</summary>
    [EnumValue("groq", "Groq")]
    Groq = 7,

    /// <summary>Mistral AI.</summary>
    [EnumValue("mistral", "Mistral AI")]
    Mistral = 8,

    /// <summary>Cohere.</summary>
    [EnumValue("cohere", "Cohere")]
    Cohere = 9,
}
