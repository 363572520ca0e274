"""Tools for strict.yaml, defined as pydantic models and turned into strict function tools by
``openai.pydantic_function_tool`` (the case file refers to them as ``{pydantic: "strict_tools:GetWeather"}``)."""

from enum import Enum

from pydantic import BaseModel, Field


class Unit(str, Enum):
    celsius = "celsius"
    fahrenheit = "fahrenheit"


class GetWeather(BaseModel):
    """Get the current weather for a location."""

    location: str = Field(description="City and country, e.g. Bogotá, Colombia")
    unit: Unit = Field(description="Temperature unit")
